#include "cli/node_connection.hpp"

#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include "core/config.hpp"
#include "daemon/control/control_cookie.hpp"

namespace nyx::cli {
namespace {

Failure not_running(const std::filesystem::path& socket, const Error& error) {
  return Failure{ExitCode::kNotRunning,
                 fmt::format("no node is running at {} ({}).\n"
                             "Start one with `nyxd --config FILE`, or a local network with "
                             "`nyxctl testnet up`; point nyxctl at it with --config, --data-dir or "
                             "--socket.",
                             socket.string(), error.message)};
}

}  // namespace

std::expected<ControlPaths, Failure> resolve_control_paths(const NodeLocation& location) {
  std::filesystem::path data_dir = location.data_dir;
  if (data_dir.empty() && !location.config.empty() && location.socket.empty()) {
    auto reader = ConfigReader::from_file(location.config);
    if (!reader) {
      return std::unexpected(Failure{ExitCode::kUsage, reader.error().message});
    }
    // Only the data directory matters here; the whole file is nyxd's to
    // check (nyxctl config check), so unknown keys are not reported.
    data_dir = reader->get_path("node.data_dir", kDefaultDataDir);
    if (const auto errors = reader->errors(); !errors.empty()) {
      return std::unexpected(Failure{ExitCode::kUsage, errors.front()});
    }
  }
  if (data_dir.empty()) {
    data_dir = location.socket.empty() ? std::filesystem::path(kDefaultDataDir)
                                       : location.socket.parent_path();
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
    return std::unexpected(Failure{ExitCode::kFailed, error.message});
  }
  auto cookie = control::ControlCookie::load(paths.cookie);
  if (!cookie) {
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
