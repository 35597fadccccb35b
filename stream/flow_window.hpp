#pragma once
// Flow-control windows (RFC 9000 section 4), one type per direction, used
// alike for the session (MAX_DATA) and each stream (MAX_STREAM_DATA).
//
// ReceiveWindow is the limit we advertise. It moves once half of it is
// consumed, and auto-tunes: a window used up within two smoothed RTTs of
// the previous update is too small for the path, so it doubles, up to a
// maximum. SendCredit is the peer's limit and what we used of it.
//
// Ownership and threading: held by value in a Session or a stream, used on
// the Session's thread only.

#include <cstdint>

#include "core/clock.hpp"

namespace nyx::stream {

class ReceiveWindow {
 public:
  ReceiveWindow(std::uint64_t initial, std::uint64_t max_window, Nanos now) noexcept
      : limit_(initial), window_(initial), max_window_(max_window), updated_(now) {}

  // The highest offset (or byte count) the peer may send.
  std::uint64_t limit() const noexcept { return limit_; }
  std::uint64_t window() const noexcept { return window_; }
  // consumed: everything read or discarded so far. True when the limit
  // moved and must be advertised.
  bool on_consumed(std::uint64_t consumed, Nanos now, Nanos smoothed_rtt) noexcept;

 private:
  std::uint64_t limit_;
  std::uint64_t window_;
  std::uint64_t max_window_;
  Nanos updated_;
};

class SendCredit {
 public:
  explicit SendCredit(std::uint64_t limit) noexcept : limit_(limit) {}

  std::uint64_t limit() const noexcept { return limit_; }
  std::uint64_t used() const noexcept { return used_; }
  std::uint64_t available() const noexcept { return limit_ - used_; }
  void use(std::uint64_t n) noexcept { used_ += n; }
  // Bytes taken but never sent (a reset stream) do not count.
  void give_back(std::uint64_t n) noexcept { used_ -= n; }
  // The peer raised its limit; limits never shrink. True when it grew.
  bool raise(std::uint64_t limit) noexcept;

 private:
  std::uint64_t limit_;
  std::uint64_t used_ = 0;
};

}  // namespace nyx::stream
