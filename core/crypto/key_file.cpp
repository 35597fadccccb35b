#include "core/crypto/key_file.hpp"

#include <cerrno>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file_io.hpp"
#include "core/unique_fd.hpp"

namespace nyx::crypto {

Status write_key_file(const std::filesystem::path& path, Bytes secret, KeyFileAccess access) {
  const mode_t mode = access == KeyFileAccess::kGroupReadable ? 0640 : 0600;
  if (auto replaced = replace_file_durably(path, secret, mode); !replaced) {
    return make_error(replaced.error().category,
                      fmt::format("key file {}", replaced.error().message), replaced.error().code);
  }
  return {};
}

Status read_key_file(const std::filesystem::path& path, MutableBytes out, KeyFileAccess access) {
  sodium_memzero(out.data(), out.size());
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ELOOP) {
      return make_error(ErrorCategory::kPermission,
                        fmt::format("key file {}: is a symbolic link", path.string()));
    }
    return file_error("key file", path, "open", errno);
  }
  // fstat on the open descriptor: the file checked is the file read.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return file_error("key file", path, "stat", errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(ErrorCategory::kPermission,
                      fmt::format("key file {}: not a regular file", path.string()));
  }
  const mode_t allowed = access == KeyFileAccess::kGroupReadable ? S_IRGRP : 0;
  if ((st.st_mode & (S_IRWXG | S_IRWXO) & ~allowed) != 0) {
    return make_error(ErrorCategory::kPermission,
                      fmt::format("key file {}: mode {:04o} lets others access it; "
                                  "run chmod {} on it",
                                  path.string(), st.st_mode & 07777,
                                  access == KeyFileAccess::kGroupReadable ? "640" : "600"));
  }
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) != out.size()) {
    return make_error(ErrorCategory::kParse, fmt::format("key file {}: holds {} bytes, expected {}",
                                                         path.string(), st.st_size, out.size()));
  }
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      sodium_memzero(out.data(), out.size());
      return file_error("key file", path, "read", err);
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

}  // namespace nyx::crypto
