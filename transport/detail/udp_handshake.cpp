// The UDP handshake of LinkManager::Impl (declared in
// transport/detail/link_manager_impl.hpp): Noise XK over messages 1-3
// (docs/protocol.md, "Links (transport)"), the initiator's side as the
// InitiatorHandshake state machine, the responder's as a bounded table of
// half-open handshakes, and the installing of a session (and so a rekey).

#include <array>
#include <utility>

#include "transport/detail/link_manager_impl.hpp"
#include "transport/noise_handshake.hpp"

namespace nyx::transport {
namespace {

Bytes prologue() { return as_bytes(kLinkPrologue); }

}  // namespace

using detail::HandshakeState;

void LinkManager::Impl::start_handshake(Peer& peer, const asio::ip::udp::endpoint& to) {
  const Nanos now = clock_.now();
  const std::uint32_t index = index_.insert(detail::IndexEntry{.peer = &peer});
  // The handshake reads the key while it runs: the Peer keeps it (link_static)
  // or it is this manager's identity.
  const std::shared_ptr<const crypto::X25519KeyPair> local = initiator_key(peer);
  peer.handshake.start(NoiseHandshake::initiator(*local, peer.key, prologue()), index, now,
                       config_.handshake_retry);
  std::array<std::uint8_t, NoiseHandshake::kMessage1Size> message{};
  if (!peer.handshake.noise().write_message({}, message)) {
    abandon_handshake(peer);
    return;
  }
  write_handshake_init(peer.handshake.retransmit_buffer(), index, message);
  send_raw(to, peer.handshake.retransmit());
}

void LinkManager::Impl::abandon_handshake(Peer& peer) {
  // In kFinalSent the index already names peer.next, removed with it.
  if (peer.handshake.state() == HandshakeState::kInitSent) {
    index_.remove(peer.handshake.index());
  }
  peer.handshake.finish();
  if (peer.next) {
    index_.remove(peer.next->local_index);
    peer.next.reset();
  }
}

void LinkManager::Impl::on_handshake_init(const UdpMessage& m,
                                          const asio::ip::udp::endpoint& from) {
  // A retransmitted message 1 gets the same answer, no new state.
  if (const HalfOpen* h = half_open_.find_by_sender(m.sender_index); h != nullptr) {
    if (h->from == from) {
      send_raw(from, h->response);
    }
    return;
  }
  if (!handshake_limiter_.try_acquire(from.address())) {
    ++counters_.dropped_rate_limited;
    return;
  }
  if (half_open_.size() >= config_.max_half_open) {
    // The oldest half-open handshake makes room (a SYN-cache policy: a
    // flood cannot pin the table, and per-address limits cap the flood).
    ++counters_.dropped_queue_full;
    drop_half_open(*half_open_.oldest());
  }
  auto h = std::make_unique<HalfOpen>(HalfOpen{NoiseHandshake::responder(*identity_, prologue()),
                                               0,
                                               m.sender_index,
                                               from,
                                               clock_.now(),
                                               {}});
  std::array<std::uint8_t, 16> payload{};
  if (!h->handshake.read_message(m.payload, payload)) {
    ++counters_.dropped_malformed;
    return;
  }
  std::array<std::uint8_t, NoiseHandshake::kMessage2Size> message{};
  if (!h->handshake.write_message({}, message)) {
    ++counters_.dropped_malformed;
    return;
  }
  h->local_index = index_.insert(detail::IndexEntry{.half_open = h.get()});
  write_handshake_response(h->response, h->local_index, h->remote_index, message);
  send_raw(from, h->response);
  half_open_.add(std::move(h));
}

void LinkManager::Impl::drop_half_open(const HalfOpen& half_open) {
  index_.remove(half_open.local_index);
  half_open_.take(half_open);
}

void LinkManager::Impl::on_handshake_response(const UdpMessage& m,
                                              const asio::ip::udp::endpoint& from) {
  const detail::IndexEntry* entry = index_.lookup(m.receiver_index);
  if (entry == nullptr || entry->peer == nullptr ||
      !entry->peer->handshake.owns(m.receiver_index)) {
    ++counters_.dropped_unknown_peer;
    return;
  }
  Peer& peer = *entry->peer;
  if (peer.handshake.state() != HandshakeState::kInitSent) {
    return;  // a duplicate response: message 3 is already on its way
  }
  std::array<std::uint8_t, 16> payload{};
  if (!peer.handshake.noise().read_message(m.payload, payload)) {
    // Forged or corrupted: this handshake state is spent; the next send
    // (or the rekey timer) starts afresh.
    ++counters_.dropped_malformed;
    abandon_handshake(peer);
    return;
  }
  std::array<std::uint8_t, NoiseHandshake::kMessage3Size> message{};
  if (!peer.handshake.noise().write_message({}, message)) {
    abandon_handshake(peer);
    return;
  }
  auto session =
      new_session(peer, peer.handshake.index(), peer.handshake.noise(), m.sender_index, from);
  session->initiator = true;
  index_.set_session(session->local_index, *session);
  peer.next = std::move(session);
  peer.handshake.final_sent();
  write_handshake_final(peer.handshake.retransmit_buffer(), m.sender_index, message);
  send_raw(from, peer.handshake.retransmit());
}

void LinkManager::Impl::on_handshake_final(const UdpMessage& m,
                                           const asio::ip::udp::endpoint& from) {
  const detail::IndexEntry* entry = index_.lookup(m.receiver_index);
  if (entry == nullptr || entry->half_open == nullptr) {
    // A retransmitted message 3 for a session we already run: the
    // initiator missed our confirmation, so send another.
    UdpSession* s = entry != nullptr ? entry->session : nullptr;
    if (s != nullptr && s->confirmed && s->remote == from) {
      seal_and_send(*s->peer, *s, UdpMessageType::kKeepalive, zero_cell_);
    } else {
      ++counters_.dropped_unknown_peer;
    }
    return;
  }
  std::unique_ptr<HalfOpen> h = half_open_.take(*entry->half_open);
  std::array<std::uint8_t, 16> payload{};
  if (h->from != from || !h->handshake.read_message(m.payload, payload)) {
    index_.remove(h->local_index);
    ++counters_.dropped_malformed;
    ++counters_.handshakes_failed;
    return;
  }
  Peer& peer = find_or_create(h->handshake.remote_static());
  auto session = new_session(peer, h->local_index, h->handshake, h->remote_index, from);
  session->confirmed = true;
  index_.set_session(session->local_index, *session);
  install(peer, std::move(session));
  ++counters_.handshakes_completed;
  seal_and_send(peer, *peer.current, UdpMessageType::kKeepalive, zero_cell_);
  link_up(peer, LinkKind::kUdp);
}

std::unique_ptr<detail::UdpSession> LinkManager::Impl::new_session(
    Peer& peer, std::uint32_t local_index, NoiseHandshake& handshake, std::uint32_t remote_index,
    const asio::ip::udp::endpoint& remote) {
  auto keys = handshake.split();
  auto session = std::make_unique<UdpSession>();
  session->peer = &peer;
  session->local_index = local_index;
  session->keys.emplace(std::move(keys.send), std::move(keys.receive), remote_index);
  session->created = clock_.now();
  session->remote = remote;
  return session;
}

// Makes `session` the one that sends; the old one keeps receiving.
void LinkManager::Impl::install(Peer& peer, std::unique_ptr<UdpSession> session) {
  if (peer.previous) {
    index_.remove(peer.previous->local_index);
  }
  if (peer.current) {
    ++counters_.rekeys;
  }
  peer.previous = std::move(peer.current);
  peer.current = std::move(session);
  peer.last_received = clock_.now();
}

// The first message on peer.next arrived: kFinalSent -> kIdle.
void LinkManager::Impl::confirm(Peer& peer) {
  peer.handshake.finish();
  auto session = std::move(peer.next);
  session->confirmed = true;
  install(peer, std::move(session));
  ++counters_.handshakes_completed;
  link_up(peer, LinkKind::kUdp);
}

// The session's initiator rekeys after rekey_after_time; the responder only
// when the initiator has let it run twice as long.
bool LinkManager::Impl::rekey_due(const Peer& peer, Nanos now) const {
  if (!peer.handshake.idle() || !peer.current) {
    return false;
  }
  const Nanos limit =
      peer.current->initiator ? config_.rekey_after_time : 2 * config_.rekey_after_time;
  return now - peer.current->created >= limit;
}

}  // namespace nyx::transport
