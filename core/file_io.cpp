#include "core/file_io.hpp"

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto/random.hpp"
#include "core/unique_fd.hpp"

namespace nyx {

std::unexpected<Error> file_error(std::string_view kind, const std::filesystem::path& path,
                                  std::string_view what, int err) {
  const std::string text = std::generic_category().message(err);
  return make_error(ErrorCategory::kIo,
                    kind.empty() ? fmt::format("{}: {}: {}", path.string(), what, text)
                                 : fmt::format("{} {}: {}: {}", kind, path.string(), what, text),
                    err);
}

Status write_all_at(int fd, Bytes data, off_t offset, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    // A write of no bytes would repeat forever: the device is at fault.
    if (n <= 0) {
      return file_error("", path, "write", n < 0 ? errno : EIO);
    }
    data = data.subspan(static_cast<std::size_t>(n));
    offset += static_cast<off_t>(n);
  }
  return {};
}

Status fsync_parent_directory(const std::filesystem::path& file) {
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return file_error("", file, fmt::format("open its directory {}", dir.string()), errno);
  }
  if (::fsync(fd.get()) != 0) {
    return file_error("", file, fmt::format("fsync of its directory {}", dir.string()), errno);
  }
  return {};
}

Status replace_file_durably(const std::filesystem::path& path, Bytes data, mode_t mode) {
  // A random suffix keeps two writers from colliding on the temporary name.
  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp-{:016x}", crypto::random_u64());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return file_error("", tmp, "create", errno);
  }
  Status status = [&]() -> Status {
    if (::fchmod(fd.get(), mode) != 0) {
      return file_error("", tmp, fmt::format("chmod {:04o}", mode), errno);
    }
    if (auto written = write_all_at(fd.get(), data, 0, tmp); !written) {
      return written;
    }
    if (::fsync(fd.get()) != 0) {
      return file_error("", tmp, "fsync", errno);
    }
    if (::close(fd.release()) != 0) {
      return file_error("", tmp, "close", errno);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      return file_error("", path, "rename into place", errno);
    }
    return fsync_parent_directory(path);
  }();
  if (!status) {
    ::unlink(tmp.c_str());
  }
  return status;
}

}  // namespace nyx
