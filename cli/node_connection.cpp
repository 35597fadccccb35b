#include "cli/node_connection.hpp"

#include <cerrno>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grp.h>
#include <sys/stat.h>

#include "core/config.hpp"
#include "daemon/control/control_cookie.hpp"

namespace nyx::cli {
namespace {

constexpr const char* kHowToStart =
    "Start one with `nyxd` (or `nyxd --config FILE`), or a local network with `nyxctl testnet "
    "up`; point nyxctl at it with --config, --data-dir or --socket.";

Failure not_running(const std::filesystem::path& socket, const Error& error) {
  return Failure{ExitCode::kNotRunning, fmt::format("no node is running at {} ({}).\n{}",
                                                    socket.string(), error.message, kHowToStart)};
}

// A control socket is there, or something we may not look into is, which
// connecting then explains.
bool may_hold_a_node(const std::filesystem::path& data_dir) {
  struct stat st {};
  const auto socket = data_dir / kControlSocketName;
  if (::lstat(socket.c_str(), &st) == 0) {
    return S_ISSOCK(st.st_mode);
  }
  return errno == EACCES;
}

// The group of the socket, or of the first directory above it we can stat
// (the data directory of a node we may not enter), by name when it has one.
std::string group_of(const std::filesystem::path& path, bool& group_may_use) {
  struct stat st {};
  std::filesystem::path at = path;
  while (::stat(at.c_str(), &st) != 0) {
    if (!at.has_relative_path()) {
      return "?";
    }
    at = at.parent_path();
  }
  group_may_use = (st.st_mode & (at == path ? S_IRGRP : S_IXGRP)) != 0;
  group buffer_group{};
  group* found = nullptr;
  char buffer[4096];
  if (::getgrgid_r(st.st_gid, &buffer_group, buffer, sizeof buffer, &found) == 0 &&
      found != nullptr) {
    return found->gr_name;
  }
  return std::to_string(st.st_gid);
}

Failure permission_denied(const std::filesystem::path& path, const std::string& detail) {
  bool group_may_use = false;
  const std::string owner_group = group_of(path, group_may_use);
  std::string message = fmt::format("permission denied: {} ({}).\n", path.string(), detail);
  if (group_may_use) {
    message += fmt::format(
        "Members of group '{}' may control the node: join it with `sudo usermod -aG {} $USER` "
        "and log in again, or run nyxctl as the node's user.",
        owner_group, owner_group);
  } else {
    message += fmt::format(
        "Only the node's user may control it; to let group '{}' do so, set "
        "control.group_access = true in the node's config and restart it.",
        owner_group);
  }
  return Failure{ExitCode::kFailed, std::move(message)};
}

bool is_permission_error(const Error& error) {
  return error.category == ErrorCategory::kIo && (error.code == EACCES || error.code == EPERM);
}

}  // namespace

std::vector<std::filesystem::path> data_dir_search(const char* variable) {
  std::vector<std::filesystem::path> places;
  if (variable != nullptr && *variable != '\0') {
    places.emplace_back(variable);
  }
  places.emplace_back(kSystemDataDir);
  places.emplace_back(kDefaultDataDir);
  return places;
}

std::expected<ControlPaths, Failure> resolve_control_paths(
    const NodeLocation& location, const std::vector<std::filesystem::path>& search) {
  std::filesystem::path data_dir = location.data_dir;
  if (data_dir.empty() && !location.config.empty() && location.socket.empty()) {
    auto reader = ConfigReader::from_file(location.config);
    if (!reader) {
      return std::unexpected(Failure{ExitCode::kUsage, reader.error().message});
    }
    // Only the data directory matters here; the whole file is nyxd's to
    // check (nyxctl config check), so unknown keys are not reported.
    data_dir = reader->get_path("node.data_dir", kSystemDataDir);
    if (const auto errors = reader->errors(); !errors.empty()) {
      return std::unexpected(Failure{ExitCode::kUsage, errors.front()});
    }
  }
  if (data_dir.empty() && !location.socket.empty()) {
    data_dir = location.socket.parent_path();
  }
  if (data_dir.empty()) {
    for (const auto& place : search) {
      if (may_hold_a_node(place)) {
        data_dir = place;
        break;
      }
    }
  }
  if (data_dir.empty()) {
    std::vector<std::string> looked;
    for (const auto& place : search) {
      looked.push_back((place / kControlSocketName).string());
    }
    return std::unexpected(Failure{
        ExitCode::kNotRunning,
        fmt::format("no node found: no control socket at {} ($NYX_DATA_DIR, then {}, then "
                    "./{}).\n{}",
                    fmt::join(looked, ", "), kSystemDataDir, kDefaultDataDir, kHowToStart)});
  }
  ControlPaths paths;
  paths.socket = location.socket.empty() ? data_dir / kControlSocketName : location.socket;
  paths.cookie = data_dir / kControlCookieName;
  return paths;
}

std::expected<control::ControlClient, Failure> open_control(const ControlPaths& paths,
                                                            std::chrono::milliseconds timeout) {
  auto client = control::ControlClient::connect(paths.socket, timeout);
  if (!client) {
    const Error& error = client.error();
    if (error.category == ErrorCategory::kIo &&
        (error.code == ENOENT || error.code == ECONNREFUSED || error.code == ENOTDIR)) {
      return std::unexpected(not_running(paths.socket, error));
    }
    if (is_permission_error(error)) {
      return std::unexpected(permission_denied(paths.socket, error.message));
    }
    return std::unexpected(Failure{ExitCode::kFailed, error.message});
  }
  auto cookie = control::ControlCookie::load(paths.cookie);
  if (!cookie) {
    if (is_permission_error(cookie.error())) {
      return std::unexpected(permission_denied(paths.cookie, cookie.error().message));
    }
    return std::unexpected(
        Failure{ExitCode::kFailed,
                fmt::format("cannot read the node's control cookie: {}", cookie.error().message)});
  }
  if (auto status = client->authenticate(*cookie); !status) {
    return std::unexpected(call_failure(status.error()));
  }
  return std::move(*client);
}

Failure call_failure(const Error& error) {
  if (error.category == ErrorCategory::kClosed) {
    return Failure{ExitCode::kNotRunning,
                   fmt::format("the node closed the control connection ({})", error.message)};
  }
  if (error.category == ErrorCategory::kPermission) {
    return Failure{ExitCode::kFailed,
                   fmt::format("the node refused the control cookie ({}); is the cookie file "
                               "from the node that owns this socket?",
                               error.message)};
  }
  return Failure{ExitCode::kFailed, error.message};
}

}  // namespace nyx::cli
