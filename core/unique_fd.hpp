#pragma once
// UniqueFd: owns a POSIX file descriptor and closes it when destroyed, so
// that every early return of a file routine closes what it opened. release()
// hands the descriptor on, to an owner that keeps it (a mapped store) or to a
// ::close() whose error the caller must see (after writing a file).
// One owner, neither copied nor moved; not thread-safe.

#include <utility>

#include <unistd.h>

namespace nyx {

class UniqueFd {
 public:
  // Takes `fd` as returned by ::open(): a negative value owns nothing.
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace nyx
