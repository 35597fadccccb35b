// The LinkManager facade and, of its Impl (transport/detail/link_manager_impl.hpp),
// the API, the peers, the UDP data path and the TCP links. The UDP handshake
// is in transport/detail/udp_handshake.cpp, the timers in
// transport/detail/link_timers.cpp.

#include "transport/link_manager.hpp"

#include <algorithm>
#include <utility>

#include "core/cell_size.hpp"
#include "core/metrics/registry.hpp"
#include "transport/detail/link_manager_impl.hpp"
#include "transport/tcp_link.hpp"
#include "transport/udp_session.hpp"

namespace nyx::transport {
namespace {

constexpr std::size_t kReceiveBatch = 64;

}  // namespace

LinkManager::Impl::Impl(asio::io_context& io, const Clock& clock, async::TimerService& timers,
                        crypto::X25519KeyPair identity, LinkConfig config)
    : io_(io),
      clock_(clock),
      timers_(timers),
      identity_(std::make_shared<const crypto::X25519KeyPair>(std::move(identity))),
      config_(config),
      handshake_limiter_(clock, config.handshakes_per_second_per_address,
                         static_cast<std::uint64_t>(config.handshake_burst_per_address),
                         config.max_half_open * 4, config.handshake_timeout * 4),
      tick_timer_(io.get_executor(), timers),
      rx_cells_(kReceiveBatch) {
  rx_batch_.reserve(kReceiveBatch);
}

Status LinkManager::Impl::open() {
  if (config_.udp_enabled) {
    UdpEndpointConfig udp;
    udp.bind = config_.udp_listen;
    udp.receive_buffer = config_.socket_receive_buffer;
    udp.send_buffer = config_.socket_send_buffer;
    udp.slot_size = kDatagramSize;
    udp.receive_batch = kReceiveBatch;
    auto endpoint = UdpEndpoint::open(io_, udp);
    if (!endpoint) {
      return std::unexpected(endpoint.error());
    }
    udp_ = std::move(*endpoint);
    udp_->start([this](std::span<const UdpDatagram> batch) { on_udp_batch(batch); });
  }
  TcpPoolConfig pool;
  pool.connect_timeout = config_.tcp_connect_timeout;
  pool.max_buffered_bytes = config_.tcp_max_buffered_bytes;
  pool_ = std::make_unique<TcpPool>(io_, clock_, timers_, *identity_, pool);
  pool_->set_cell_handler([this](TcpLink& link, Bytes cell) { on_tcp_cell(link, cell); });
  pool_->set_closed_handler([this](TcpLink& link) { on_tcp_closed(link); });
  if (config_.tcp_listen) {
    if (auto status = pool_->listen(*config_.tcp_listen); !status) {
      return status;
    }
    pool_->set_accepted_handler([this](TcpLink& link) { on_tcp_up(link); });
  }
  arm_tick();
  return {};
}

void LinkManager::Impl::stop() {
  stopped_ = true;
  gate_.close();
  tick_timer_.cancel();
  if (udp_) {
    udp_->close();
  }
  if (pool_) {
    pool_->stop();
  }
}

void LinkManager::Impl::add_peer(const PeerKey& key, PeerEndpoints endpoints) {
  Peer& peer = find_or_create(key);
  peer.endpoints = std::move(endpoints);
  peer.udp_failed = false;
}

SendResult LinkManager::Impl::send(const PeerKey& key, Bytes cell) {
  if (cell.size() != kCellSize) {
    return SendResult::kDroppedBadSize;
  }
  auto it = peers_.find(key);
  if (it == peers_.end() || stopped_) {
    return SendResult::kDroppedNoRoute;
  }
  Peer& peer = *it->second;
  if (peer.limiter && !peer.limiter->try_acquire(kCellSize)) {
    ++peer.stats.dropped_rate_limited;
    return SendResult::kDroppedRateLimited;
  }
  if (peer.current && udp_) {
    return seal_and_send(peer, *peer.current, UdpMessageType::kData, cell);
  }
  if (peer.tcp != nullptr && peer.tcp->established()) {
    return send_tcp(peer, cell);
  }
  if (peer.pending.size() >= config_.pending_cells_per_peer) {
    ++peer.stats.dropped_queue_full;
    ++counters_.dropped_queue_full;
    return SendResult::kDroppedQueueFull;
  }
  if (!connect(peer)) {
    return SendResult::kDroppedNoRoute;
  }
  std::copy(cell.begin(), cell.end(), peer.pending.emplace_back().begin());
  return SendResult::kQueued;
}

void LinkManager::Impl::flush() {
  if (udp_) {
    udp_->flush();
  }
}

std::optional<LinkStats> LinkManager::Impl::stats(const PeerKey& key) const {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    return std::nullopt;
  }
  return it->second->stats;
}

std::optional<asio::ip::address> LinkManager::Impl::remote_address(const PeerKey& key) const {
  auto it = peers_.find(key);
  if (it == peers_.end()) {
    return std::nullopt;
  }
  const Peer& peer = *it->second;
  if (peer.current) {
    return peer.current->remote.address();
  }
  if (peer.tcp != nullptr) {
    return peer.tcp->remote_address();
  }
  return std::nullopt;
}

void LinkManager::Impl::publish_metrics(metrics::Registry& registry) {
  metrics_ = std::make_unique<detail::TransportMetrics>(registry);
  metrics_->update(counters(), links_up_);
}

const TransportCounters& LinkManager::Impl::counters() {
  if (udp_) {
    const auto& c = udp_->counters();
    counters_.udp_packets_received = c.packets_received;
    counters_.udp_packets_sent = c.packets_sent;
    counters_.udp_bytes_received = c.bytes_received;
    counters_.udp_bytes_sent = c.bytes_sent;
    counters_.udp_batches_received = c.batches_received;
    counters_.udp_batches_sent = c.batches_sent;
  }
  return counters_;
}

std::optional<asio::ip::udp::endpoint> LinkManager::Impl::udp_local_endpoint() const {
  if (!udp_) {
    return std::nullopt;
  }
  return udp_->local_endpoint();
}
std::optional<asio::ip::tcp::endpoint> LinkManager::Impl::tcp_local_endpoint() const {
  return pool_ ? pool_->local_endpoint() : std::nullopt;
}

detail::Peer& LinkManager::Impl::find_or_create(const PeerKey& key) {
  auto [it, inserted] = peers_.try_emplace(key);
  if (inserted) {
    it->second = std::make_unique<Peer>();
    it->second->key = key;
    if (config_.peer_rate_bytes > 0) {
      it->second->limiter = std::make_unique<TokenBucket>(
          clock_, config_.peer_rate_bytes, static_cast<std::uint64_t>(config_.peer_burst_bytes));
    }
  }
  return *it->second;
}

std::shared_ptr<const crypto::X25519KeyPair> LinkManager::Impl::initiator_key(Peer& peer) {
  if (!config_.fresh_initiator_keys) {
    return identity_;
  }
  const bool link_up = peer.current != nullptr || peer.tcp != nullptr;
  if (!link_up || !peer.link_static) {
    peer.link_static =
        std::make_shared<const crypto::X25519KeyPair>(crypto::X25519KeyPair::generate());
  }
  return peer.link_static;
}

PeerKey LinkManager::Impl::local_key(const PeerKey& key) const {
  auto it = peers_.find(key);
  if (it == peers_.end() || !it->second->link_static) {
    return identity_->public_key;
  }
  return it->second->link_static->public_key;
}

// Starts whatever gets the peer a link; false when there is no way.
bool LinkManager::Impl::connect(Peer& peer) {
  if (!peer.handshake.idle() || peer.tcp_connecting || peer.tcp != nullptr) {
    return true;
  }
  if (udp_ && peer.endpoints.udp && !peer.udp_failed) {
    start_handshake(peer, *peer.endpoints.udp);
    return true;
  }
  if (peer.endpoints.tcp) {
    connect_tcp(peer);
    return true;
  }
  return false;
}

void LinkManager::Impl::send_raw(const asio::ip::udp::endpoint& to, Bytes datagram) {
  MutableBytes slot = udp_->prepare_send(to);
  if (slot.empty()) {
    ++counters_.dropped_queue_full;
    return;
  }
  std::copy(datagram.begin(), datagram.end(), slot.begin());
  udp_->commit_send(datagram.size());
  flush_soon_.schedule();
}

void LinkManager::Impl::link_up(Peer& peer, LinkKind kind) {
  const bool was_up = peer.stats.up;
  peer.stats.up = true;
  links_up_ += was_up ? 0 : 1;
  peer.stats.kind = kind;
  peer.last_received = clock_.now();
  peer.last_sent = peer.last_received;
  drain_pending(peer);
  if (!was_up && on_event_ && !stopped_) {
    on_event_(peer.key, kind, LinkEvent::kUp);
  }
}

void LinkManager::Impl::drain_pending(Peer& peer) {
  while (!peer.pending.empty()) {
    SendResult r;
    if (peer.current && udp_) {
      r = seal_and_send(peer, *peer.current, UdpMessageType::kData, peer.pending.front());
    } else if (peer.tcp != nullptr && peer.tcp->established()) {
      r = send_tcp(peer, peer.pending.front());
    } else {
      return;
    }
    if (r != SendResult::kSent) {
      break;  // the ring is full: what is left is dropped below
    }
    peer.pending.pop_front();
  }
  peer.stats.dropped_queue_full += peer.pending.size();
  peer.pending.clear();
}

void LinkManager::Impl::link_down(Peer& peer, LinkEvent event) {
  index_.remove_peer(peer);  // its handshake and every session
  peer.current.reset();
  peer.previous.reset();
  peer.next.reset();
  peer.handshake.finish();
  peer.stats.dropped_queue_full += peer.pending.size();
  peer.pending.clear();
  const bool was_up = peer.stats.up;
  peer.stats.up = false;
  links_up_ -= was_up ? 1 : 0;
  if ((was_up || event == LinkEvent::kHandshakeFailed) && on_event_ && !stopped_) {
    on_event_(peer.key, peer.stats.kind, event);
  }
}

SendResult LinkManager::Impl::seal_and_send(Peer& peer, UdpSession& session, UdpMessageType type,
                                            Bytes cell) {
  MutableBytes slot = udp_->prepare_send(session.remote);
  if (slot.empty()) {
    ++peer.stats.dropped_queue_full;
    ++counters_.dropped_queue_full;
    return SendResult::kDroppedQueueFull;
  }
  if (!session.keys->seal(type, cell, slot)) {
    return SendResult::kDroppedQueueFull;  // counter exhausted: cannot happen before rekey
  }
  udp_->commit_send(kDatagramSize);
  flush_soon_.schedule();
  peer.stats.bytes_sent += kDatagramSize;
  if (type == UdpMessageType::kData) {
    ++peer.stats.cells_sent;
  }
  // The session's initiator rekeys; the responder only if the initiator
  // has let the session run to twice the limit (both at once would rotate
  // sessions faster than in-flight messages drain).
  const std::uint64_t limit =
      session.initiator ? config_.rekey_after_messages : 2 * config_.rekey_after_messages;
  if (session.keys->send_counter() >= limit && peer.handshake.idle() &&
      &session == peer.current.get()) {
    start_handshake(peer, session.remote);
  }
  return SendResult::kSent;
}

void LinkManager::Impl::on_udp_batch(std::span<const UdpDatagram> batch) {
  if (stopped_) {
    return;
  }
  batch_now_ = clock_.now();
  rx_batch_.clear();
  for (const UdpDatagram& d : batch) {
    auto m = parse_udp_message(d.data);
    if (!m) {
      ++counters_.dropped_malformed;
      continue;
    }
    switch (m->type) {
      case UdpMessageType::kHandshakeInit:
        on_handshake_init(*m, *d.from);
        break;
      case UdpMessageType::kHandshakeResponse:
        on_handshake_response(*m, *d.from);
        break;
      case UdpMessageType::kHandshakeFinal:
        on_handshake_final(*m, *d.from);
        break;
      case UdpMessageType::kData:
      case UdpMessageType::kKeepalive:
        on_data(*m, *d.from);
        break;
    }
  }
  deliver();
}

void LinkManager::Impl::on_data(const UdpMessage& m, const asio::ip::udp::endpoint& from) {
  const detail::IndexEntry* entry = index_.lookup(m.receiver_index);
  if (entry == nullptr || entry->session == nullptr) {
    ++counters_.dropped_unknown_peer;
    return;
  }
  UdpSession& session = *entry->session;
  Cell& cell = rx_cells_[rx_batch_.size()];
  switch (session.keys->open(m, cell)) {
    case UdpSessionKeys::OpenResult::kReplay:
      ++counters_.dropped_replay;
      return;
    case UdpSessionKeys::OpenResult::kBadTag:
      ++counters_.dropped_malformed;
      return;
    case UdpSessionKeys::OpenResult::kOk:
      break;
  }
  Peer& peer = *session.peer;
  peer.last_received = batch_now_;
  peer.stats.bytes_received += kDatagramSize;
  session.remote = from;  // follow a peer whose address changed
  if (!session.confirmed && peer.next.get() == &session) {
    confirm(peer);
  }
  if (m.type == UdpMessageType::kData) {
    ++peer.stats.cells_received;
    rx_batch_.push_back(ReceivedCell{&peer.key, cell, LinkKind::kUdp});
    if (rx_batch_.size() == rx_cells_.size()) {
      deliver();
    }
  }
}

void LinkManager::Impl::deliver() {
  if (!rx_batch_.empty() && on_cells_ && !stopped_) {
    on_cells_(rx_batch_);
  }
  rx_batch_.clear();
}

void LinkManager::Impl::connect_tcp(Peer& peer) {
  // The pool answers even when it is stopped, possibly after this manager is
  // gone: the handler holds the gate and checks it before touching anything.
  // (AcquireHandler is a std::function, so the move-only holder is shared.)
  auto entered = gate_.enter();
  if (!entered) {
    return;
  }
  auto pass = std::make_shared<async::Gate::Holder>(std::move(*entered));
  peer.tcp_connecting = true;
  const PeerKey key = peer.key;
  pool_->acquire_async(key, *peer.endpoints.tcp, initiator_key(peer),
                       [this, key, pass](Result<TcpLink*> link) {
                         if (pass->gate_closed()) {
                           return;
                         }
                         Peer& p = find_or_create(key);
                         p.tcp_connecting = false;
                         if (!link) {
                           ++counters_.handshakes_failed;
                           link_down(p, LinkEvent::kHandshakeFailed);
                           return;
                         }
                         p.tcp = *link;
                         ++counters_.handshakes_completed;
                         link_up(p, LinkKind::kTcp);
                       });
}

SendResult LinkManager::Impl::send_tcp(Peer& peer, Bytes cell) {
  if (!peer.tcp->send_cell(cell)) {
    ++peer.stats.dropped_queue_full;
    ++counters_.dropped_queue_full;
    return SendResult::kDroppedQueueFull;
  }
  ++peer.stats.cells_sent;
  peer.stats.bytes_sent += TcpLink::kFrameSize;
  return SendResult::kSent;
}

void LinkManager::Impl::on_tcp_up(TcpLink& link) {
  Peer& peer = find_or_create(link.peer());
  if (peer.tcp == nullptr) {
    peer.tcp = &link;
  }
  ++counters_.handshakes_completed;
  link_up(peer, LinkKind::kTcp);
}

void LinkManager::Impl::on_tcp_cell(TcpLink& link, Bytes cell) {
  if (stopped_) {
    return;
  }
  Peer& peer = find_or_create(link.peer());
  peer.last_received = clock_.now();
  ++peer.stats.cells_received;
  peer.stats.bytes_received += TcpLink::kFrameSize;
  const ReceivedCell received{&peer.key, cell, LinkKind::kTcp};
  if (on_cells_) {
    on_cells_(std::span<const ReceivedCell>(&received, 1));
  }
}

void LinkManager::Impl::on_tcp_closed(TcpLink& link) {
  auto it = peers_.find(link.peer());
  if (it == peers_.end() || it->second->tcp != &link) {
    return;
  }
  Peer& peer = *it->second;
  peer.tcp = nullptr;
  if (!peer.current) {
    link_down(peer, LinkEvent::kDown);
  }
}

// ---- LinkManager -------------------------------------------------------------

Result<std::unique_ptr<LinkManager>> LinkManager::create(asio::io_context& io, const Clock& clock,
                                                         async::TimerService& timers,
                                                         crypto::X25519KeyPair identity,
                                                         LinkConfig config) {
  auto impl = std::make_unique<Impl>(io, clock, timers, std::move(identity), std::move(config));
  if (auto status = impl->open(); !status) {
    return std::unexpected(status.error());
  }
  return std::unique_ptr<LinkManager>(new LinkManager(std::move(impl)));
}

LinkManager::LinkManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkManager::~LinkManager() {
  if (impl_) {
    impl_->stop();
  }
}

void LinkManager::set_cell_handler(CellHandler handler) {
  impl_->set_cell_handler(std::move(handler));
}
void LinkManager::set_event_handler(EventHandler handler) {
  impl_->set_event_handler(std::move(handler));
}
void LinkManager::add_peer(const PeerKey& peer, PeerEndpoints endpoints) {
  impl_->add_peer(peer, std::move(endpoints));
}
SendResult LinkManager::send(const PeerKey& peer, Bytes cell) { return impl_->send(peer, cell); }
void LinkManager::flush() { impl_->flush(); }
std::optional<LinkStats> LinkManager::stats(const PeerKey& peer) const {
  return impl_->stats(peer);
}
std::optional<asio::ip::address> LinkManager::remote_address(const PeerKey& peer) const {
  return impl_->remote_address(peer);
}
const TransportCounters& LinkManager::counters() const { return impl_->counters(); }
const PeerKey& LinkManager::local_key() const { return impl_->local_key(); }

PeerKey LinkManager::local_key(const PeerKey& peer) const { return impl_->local_key(peer); }
std::optional<asio::ip::udp::endpoint> LinkManager::udp_local_endpoint() const {
  return impl_->udp_local_endpoint();
}
std::optional<asio::ip::tcp::endpoint> LinkManager::tcp_local_endpoint() const {
  return impl_->tcp_local_endpoint();
}
void LinkManager::stop() { impl_->stop(); }
void LinkManager::publish_metrics(metrics::Registry& registry) { impl_->publish_metrics(registry); }

}  // namespace nyx::transport
