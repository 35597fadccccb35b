#include "stream/flow_window.hpp"

#include <algorithm>

namespace nyx::stream {

bool ReceiveWindow::on_consumed(std::uint64_t consumed, Nanos now, Nanos smoothed_rtt) noexcept {
  if (limit_ - consumed >= window_ / 2) {
    return false;
  }
  if (now - updated_ < 2 * smoothed_rtt) {
    window_ = std::min(window_ * 2, max_window_);
  }
  updated_ = now;
  limit_ = consumed + window_;
  return true;
}

bool SendCredit::raise(std::uint64_t limit) noexcept {
  if (limit <= limit_) {
    return false;
  }
  limit_ = limit;
  return true;
}

}  // namespace nyx::stream
