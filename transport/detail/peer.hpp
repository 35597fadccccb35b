#pragma once
// Peer and UdpSession: what a LinkManager knows of one neighbour — how to
// reach it, its UDP sessions (current, previous, next), the initiator
// handshake in progress, the cells held while a link comes up, its TCP link,
// its counters and the times its timers read.
//
// Peers are owned by the LinkManager (one unique_ptr each, never moved, so
// the index table and sessions may point at them); sessions by their Peer.
// Not thread-safe: every access on the manager's thread.

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include <asio/ip/udp.hpp>

#include "core/cell_size.hpp"
#include "core/clock.hpp"
#include "core/crypto/x25519.hpp"
#include "core/rate_limiter.hpp"
#include "transport/detail/initiator_handshake.hpp"
#include "transport/link_manager.hpp"
#include "transport/udp_session.hpp"

namespace nyx::transport {
class TcpLink;
}

namespace nyx::transport::detail {

using Cell = std::array<std::uint8_t, kCellSize>;

struct Peer;

// One direction pair of keys from one completed handshake.
struct UdpSession {
  Peer* peer = nullptr;
  std::uint32_t local_index = 0;
  std::optional<UdpSessionKeys> keys;
  Nanos created{};
  asio::ip::udp::endpoint remote;
  bool confirmed = false;  // the initiator waits for the first message on it
  bool initiator = false;  // the side that started the handshake also starts the rekey
};

struct Peer {
  PeerKey key{};
  PeerEndpoints endpoints;
  std::unique_ptr<UdpSession> current;   // sends and receives
  std::unique_ptr<UdpSession> previous;  // receives what was in flight before a rekey
  std::unique_ptr<UdpSession> next;      // initiator: waiting for confirmation (kFinalSent)
  InitiatorHandshake handshake;

  std::deque<Cell> pending;  // bounded by pending_cells_per_peer
  std::unique_ptr<TokenBucket> limiter;
  LinkStats stats;
  Nanos last_received{};
  Nanos last_sent{};
  std::uint64_t bytes_sent_at_last_send = 0;
  bool udp_failed = false;  // fall back to TCP

  TcpLink* tcp = nullptr;  // an established TCP link (owned by the pool or inbound list)
  // With LinkConfig::fresh_initiator_keys: the static this node shows the
  // peer on its current (or starting) link; shared with that link's TCP
  // connection, which may outlive a replacement.
  std::shared_ptr<const crypto::X25519KeyPair> link_static;
  bool tcp_connecting = false;
};

}  // namespace nyx::transport::detail
