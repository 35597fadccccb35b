#pragma once
// HalfOpenTable: the responder handshakes that answered message 1 and await
// message 3 (HalfOpen: the Noise state, both indices, the source address and
// the response kept for retransmitted message 1s), oldest first, and found
// by the initiator's sender index. The LinkManager bounds it (the oldest
// makes room: a SYN-cache policy) and expires entries after the handshake
// timeout; the IndexTable finds them by our index.
//
// One per LinkManager, which owns it; it owns the HalfOpen states. Not
// thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>

#include <asio/ip/udp.hpp>

#include "core/clock.hpp"
#include "transport/noise_handshake.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport::detail {

struct HalfOpen {
  NoiseHandshake handshake;
  std::uint32_t local_index = 0;
  std::uint32_t remote_index = 0;
  asio::ip::udp::endpoint from;
  Nanos created{};
  std::array<std::uint8_t, kDatagramSize> response{};
};

class HalfOpenTable {
 public:
  std::size_t size() const noexcept { return order_.size(); }
  // The half-open handshake the initiator's `sender_index` started, or nullptr.
  HalfOpen* find_by_sender(std::uint32_t sender_index) const;
  // The oldest, or nullptr when empty.
  HalfOpen* oldest() const { return order_.empty() ? nullptr : order_.front().get(); }

  // Adds the newest.
  void add(std::unique_ptr<HalfOpen> half_open);
  // Removes `half_open` and hands it back.
  std::unique_ptr<HalfOpen> take(const HalfOpen& half_open);

 private:
  std::deque<std::unique_ptr<HalfOpen>> order_;  // oldest first
  std::unordered_map<std::uint32_t, HalfOpen*> by_sender_;
};

}  // namespace nyx::transport::detail
