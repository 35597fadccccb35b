#include "daemon/data_dir.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nyx::daemon {
namespace {

mode_t mode_for(bool group_access) { return group_access ? 0750 : 0700; }

}  // namespace

Status DataDir::check(const std::filesystem::path& absolute, bool group_access) {
  const mode_t mode = mode_for(group_access);
  struct stat st {};
  if (::stat(absolute.c_str(), &st) != 0) {
    const int err = errno;
    return make_error(ErrorCategory::kIo,
                      fmt::format("data directory {}: {}", absolute.string(), std::strerror(err)),
                      err);
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("data directory {} is not a directory", absolute.string()));
  }
  if (st.st_uid != ::geteuid()) {
    return make_error(ErrorCategory::kPermission,
                      fmt::format("data directory {} is owned by uid {}, not by this user (uid {})",
                                  absolute.string(), st.st_uid, ::geteuid()));
  }
  if ((st.st_mode & 077 & ~mode) != 0) {
    return make_error(
        ErrorCategory::kPermission,
        fmt::format("data directory {} has mode {:04o}: {} may access the node's keys; run: "
                    "chmod {:o} {}",
                    absolute.string(), st.st_mode & 07777,
                    group_access ? "others, or its group may write, and" : "group or others", mode,
                    absolute.string()));
  }
  return {};
}

Result<DataDir> DataDir::open(const std::filesystem::path& path, bool group_access) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) {
    return make_error(ErrorCategory::kIo,
                      fmt::format("data directory {}: {}", path.string(), ec.message()),
                      ec.value());
  }
  if (!std::filesystem::exists(absolute, ec)) {
    std::filesystem::create_directories(absolute.parent_path(), ec);
    // mkdir with its mode (not a later chmod) leaves no window where others
    // can enter; the umask may only narrow it.
    if (ec || (::mkdir(absolute.c_str(), mode_for(group_access)) != 0 && errno != EEXIST)) {
      const int err = ec ? ec.value() : errno;
      return make_error(ErrorCategory::kIo,
                        fmt::format("cannot create data directory {}: {}", absolute.string(),
                                    ec ? ec.message() : std::string(std::strerror(err))),
                        err);
    }
  }
  if (auto status = check(absolute, group_access); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return DataDir(std::move(absolute));
}

std::filesystem::path DataDir::onion_key(std::uint64_t epoch) const {
  return path_ / fmt::format("onion-{}.key", epoch);
}

}  // namespace nyx::daemon
