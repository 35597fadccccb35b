// The timers of LinkManager::Impl (declared in
// transport/detail/link_manager_impl.hpp), one function per thing that
// expires, as wireguard-go's timers.go. One tick timer (LinkConfig::tick)
// wakes them; each decision reads the time from the injected clock, read
// once per tick.

#include "transport/detail/link_manager_impl.hpp"

namespace nyx::transport {

void LinkManager::Impl::arm_tick() {
  auto pass = gate_.enter();
  if (!pass) {
    return;
  }
  tick_timer_.expires_after(config_.tick);
  tick_timer_.async_wait([this, pass = std::move(*pass)](const asio::error_code& ec) {
    if (ec || pass.gate_closed()) {
      return;
    }
    on_tick();
    arm_tick();
  });
}

void LinkManager::Impl::on_tick() {
  const Nanos now = clock_.now();
  expired_metrics_interval();
  expired_half_open(now);
  for (auto& [key, peer] : peers_) {
    tick_peer(*peer, now);
  }
}

void LinkManager::Impl::tick_peer(Peer& peer, Nanos now) {
  // The timeout is checked on every tick, not only when a retransmission is
  // due: the doubling interval would otherwise let a handshake run on for up
  // to one more interval past its timeout.
  if (!peer.handshake.idle() && peer.handshake.timed_out(now, config_.handshake_timeout)) {
    expired_handshake(peer);
  } else if (peer.handshake.retransmit_due(now)) {
    expired_retransmit_handshake(peer, now);
  } else if (rekey_due(peer, now)) {
    expired_rekey(peer);
  }
  if (!peer.current || !peer.stats.up) {
    return;
  }
  if (now - peer.last_received >= config_.dead_after) {
    expired_dead_link(peer);
    return;
  }
  // Whether anything went out is read off the byte counter, so the cell
  // path never reads the clock for keepalives.
  if (peer.stats.bytes_sent != peer.bytes_sent_at_last_send) {
    peer.bytes_sent_at_last_send = peer.stats.bytes_sent;
    peer.last_sent = now;
  } else if (now - peer.last_sent >= config_.keepalive_interval) {
    expired_keepalive(peer);
  }
}

// Brings the registry's nyx_transport_* metrics up to date.
void LinkManager::Impl::expired_metrics_interval() {
  if (metrics_) {
    metrics_->update(counters(), links_up_);
  }
}

// Responder handshakes whose message 3 never came, oldest first.
void LinkManager::Impl::expired_half_open(Nanos now) {
  while (const HalfOpen* oldest = half_open_.oldest()) {
    if (now - oldest->created < config_.handshake_timeout) {
      break;
    }
    drop_half_open(*oldest);
  }
}

// The initiator handshake ran out of time. A peer with a session keeps it
// (a failed rekey); one without falls back to TCP, or its link failed.
void LinkManager::Impl::expired_handshake(Peer& peer) {
  ++counters_.handshakes_failed;
  const bool had_session = peer.current != nullptr;
  abandon_handshake(peer);
  if (had_session) {
    return;
  }
  peer.udp_failed = true;
  if (peer.endpoints.tcp && !peer.pending.empty()) {
    connect_tcp(peer);
  } else {
    link_down(peer, LinkEvent::kHandshakeFailed);
  }
}

// Message 1 or 3 unanswered: send it again, and wait twice as long.
void LinkManager::Impl::expired_retransmit_handshake(Peer& peer, Nanos now) {
  const auto to =
      peer.next ? peer.next->remote : (peer.current ? peer.current->remote : *peer.endpoints.udp);
  send_raw(to, peer.handshake.retransmit());
  peer.handshake.retransmitted(now);
}

// The current session is old enough to be replaced.
void LinkManager::Impl::expired_rekey(Peer& peer) { start_handshake(peer, peer.current->remote); }

// Nothing received for dead_after: the link is down.
void LinkManager::Impl::expired_dead_link(Peer& peer) { link_down(peer, LinkEvent::kDown); }

// Nothing sent for keepalive_interval: tell the peer we are alive.
void LinkManager::Impl::expired_keepalive(Peer& peer) {
  seal_and_send(peer, *peer.current, UdpMessageType::kKeepalive, zero_cell_);
}

}  // namespace nyx::transport
