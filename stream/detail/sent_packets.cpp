#include "stream/detail/sent_packets.hpp"

namespace nyx::stream::detail {

SentPacket& SentPackets::prepare() {
  if (next_pn_ - first_pn_ >= ring_.size()) {
    std::vector<SentPacket> bigger(ring_.size() * 2);
    const std::size_t mask = bigger.size() - 1;
    for (std::uint64_t i = first_pn_; i < next_pn_; ++i) {
      bigger[static_cast<std::size_t>(i & mask)] = slot(i);
    }
    ring_.swap(bigger);
  }
  SentPacket& p = slot(next_pn_);
  p.state = SentPacket::kEmpty;
  p.count = 0;
  return p;
}

void SentPackets::pop_done() noexcept {
  while (first_pn_ < next_pn_ && slot(first_pn_).state != SentPacket::kInFlight) {
    slot(first_pn_).state = SentPacket::kEmpty;
    ++first_pn_;
  }
  acked_.remove_below(first_pn_);
}

}  // namespace nyx::stream::detail
