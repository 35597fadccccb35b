#include "transport/link_manager.hpp"

#include <array>
#include <deque>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "async/deferred_callback.hpp"
#include "async/gate.hpp"
#include "core/cell_size.hpp"
#include "core/crypto/random.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "core/metrics/registry.hpp"
#include "core/rate_limiter.hpp"
#include "transport/noise_handshake.hpp"
#include "transport/tcp_link.hpp"
#include "transport/tcp_pool.hpp"
#include "transport/udp_endpoint.hpp"
#include "transport/udp_session.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport {
namespace {

using Cell = std::array<std::uint8_t, kCellSize>;
constexpr std::size_t kReceiveBatch = 64;

Bytes prologue() { return as_bytes(kLinkPrologue); }

struct AddressHash {
  std::size_t operator()(const asio::ip::address& a) const noexcept {
    return std::hash<asio::ip::address>()(a);
  }
};

}  // namespace

// One direction pair of keys from one completed handshake.
struct UdpSession {
  struct Peer* peer = nullptr;
  std::uint32_t local_index = 0;
  std::optional<UdpSessionKeys> keys;
  Nanos created{};
  asio::ip::udp::endpoint remote;
  bool confirmed = false;  // the initiator waits for the first message on it
  bool initiator = false;  // the side that started the handshake also starts the rekey
};

struct HalfOpen {
  NoiseHandshake handshake;
  std::uint32_t local_index;
  std::uint32_t remote_index;
  asio::ip::udp::endpoint from;
  Nanos created;
  std::array<std::uint8_t, kDatagramSize> response;
};

struct Peer {
  PeerKey key{};
  PeerEndpoints endpoints;
  std::unique_ptr<UdpSession> current;   // sends and receives
  std::unique_ptr<UdpSession> previous;  // receives what was in flight before a rekey
  std::unique_ptr<UdpSession> next;      // initiator: waiting for confirmation

  // An initiator handshake in progress (message 1 sent, or message 3 sent
  // and waiting for the first message on the new session).
  std::optional<NoiseHandshake> handshake;
  std::uint32_t handshake_index = 0;
  Nanos handshake_started{};
  Nanos next_retry{};
  Nanos retry_interval{};
  std::array<std::uint8_t, kDatagramSize> retransmit{};
  bool retransmit_pending = false;

  std::deque<Cell> pending;  // bounded by pending_cells_per_peer
  std::unique_ptr<TokenBucket> limiter;
  LinkStats stats;
  Nanos last_received{};
  Nanos last_sent{};
  std::uint64_t bytes_sent_at_last_send = 0;
  bool udp_failed = false;  // fall back to TCP

  TcpLink* tcp = nullptr;  // an established TCP link (owned by the pool or inbound list)
  bool tcp_connecting = false;
};

// ---- metrics -------------------------------------------------------------------

// Registry counters fed from TransportCounters: each tick adds what changed
// since the last one, so the cell path only bumps plain integers; and the
// links_up gauge.
class TransportMetrics {
 public:
  explicit TransportMetrics(metrics::Registry& r)
      : fields_{{
            {&TransportCounters::udp_packets_received,
             &r.counter("nyx_transport_udp_packets_total", "UDP datagrams", {{"dir", "rx"}})},
            {&TransportCounters::udp_packets_sent,
             &r.counter("nyx_transport_udp_packets_total", "UDP datagrams", {{"dir", "tx"}})},
            {&TransportCounters::udp_bytes_received,
             &r.counter("nyx_transport_udp_bytes_total", "UDP bytes", {{"dir", "rx"}})},
            {&TransportCounters::udp_bytes_sent,
             &r.counter("nyx_transport_udp_bytes_total", "UDP bytes", {{"dir", "tx"}})},
            {&TransportCounters::udp_batches_received,
             &r.counter("nyx_transport_udp_batches_total", "recvmmsg/sendmmsg batches",
                        {{"dir", "rx"}})},
            {&TransportCounters::udp_batches_sent,
             &r.counter("nyx_transport_udp_batches_total", "recvmmsg/sendmmsg batches",
                        {{"dir", "tx"}})},
            {&TransportCounters::dropped_malformed,
             &r.counter("nyx_transport_drops_total", "datagrams dropped",
                        {{"reason", "malformed"}})},
            {&TransportCounters::dropped_unknown_peer,
             &r.counter("nyx_transport_drops_total", "datagrams dropped",
                        {{"reason", "unknown_peer"}})},
            {&TransportCounters::dropped_replay,
             &r.counter("nyx_transport_drops_total", "datagrams dropped", {{"reason", "replay"}})},
            {&TransportCounters::dropped_rate_limited,
             &r.counter("nyx_transport_drops_total", "datagrams dropped",
                        {{"reason", "rate_limited"}})},
            {&TransportCounters::dropped_queue_full,
             &r.counter("nyx_transport_drops_total", "datagrams dropped",
                        {{"reason", "queue_full"}})},
            {&TransportCounters::handshakes_completed,
             &r.counter("nyx_transport_handshakes_total", "link handshakes",
                        {{"result", "completed"}})},
            {&TransportCounters::handshakes_failed,
             &r.counter("nyx_transport_handshakes_total", "link handshakes",
                        {{"result", "failed"}})},
            {&TransportCounters::rekeys,
             &r.counter("nyx_transport_rekeys_total", "link session rekeys")},
        }},
        links_up_(r.gauge("nyx_transport_links_up", "Links established now")) {}

  void update(const TransportCounters& now, std::size_t links_up) {
    for (auto& [field, counter] : fields_) {
      const std::uint64_t delta = now.*field - published_.*field;
      if (delta > 0) {
        counter->inc(delta);
      }
    }
    published_ = now;
    links_up_.set(static_cast<std::int64_t>(links_up));
  }

 private:
  std::array<std::pair<std::uint64_t TransportCounters::*, metrics::Counter*>, 14> fields_;
  metrics::Gauge& links_up_;
  TransportCounters published_;
};

class LinkManager::Impl {
 public:
  Impl(asio::io_context& io, const Clock& clock, crypto::X25519KeyPair identity, LinkConfig config)
      : io_(io),
        clock_(clock),
        identity_(std::move(identity)),
        config_(config),
        handshake_limiter_(clock, config.handshakes_per_second_per_address,
                           static_cast<std::uint64_t>(config.handshake_burst_per_address),
                           config.max_half_open * 4, config.handshake_timeout * 4),
        tick_timer_(io),
        rx_cells_(kReceiveBatch) {
    rx_batch_.reserve(kReceiveBatch);
  }

  Status open() {
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
    pool_ = std::make_unique<TcpPool>(io_, clock_, identity_, pool);
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

  void stop() {
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

  // ---- API -----------------------------------------------------------------

  void add_peer(const PeerKey& key, PeerEndpoints endpoints) {
    Peer& peer = find_or_create(key);
    peer.endpoints = std::move(endpoints);
    peer.udp_failed = false;
  }

  SendResult send(const PeerKey& key, Bytes cell) {
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

  void flush() {
    if (udp_) {
      udp_->flush();
    }
  }

  std::optional<LinkStats> stats(const PeerKey& key) const {
    auto it = peers_.find(key);
    if (it == peers_.end()) {
      return std::nullopt;
    }
    return it->second->stats;
  }

  void publish_metrics(metrics::Registry& registry) {
    metrics_ = std::make_unique<TransportMetrics>(registry);
    metrics_->update(counters(), links_up_);
  }

  void set_cell_handler(CellHandler handler) { on_cells_ = std::move(handler); }
  void set_event_handler(EventHandler handler) { on_event_ = std::move(handler); }
  const TransportCounters& counters() {
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
  const PeerKey& local_key() const { return identity_.public_key; }
  std::optional<asio::ip::udp::endpoint> udp_local_endpoint() const {
    if (!udp_) {
      return std::nullopt;
    }
    return udp_->local_endpoint();
  }
  std::optional<asio::ip::tcp::endpoint> tcp_local_endpoint() const {
    return pool_ ? pool_->local_endpoint() : std::nullopt;
  }

 private:
  Peer& find_or_create(const PeerKey& key) {
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

  std::uint32_t fresh_index() {
    for (;;) {
      std::uint32_t index = 0;
      crypto::random_bytes(MutableBytes(reinterpret_cast<std::uint8_t*>(&index), sizeof index));
      if (index != 0 && !sessions_.contains(index) && !half_open_.contains(index) &&
          !initiations_.contains(index)) {
        return index;
      }
    }
  }

  // Starts whatever gets the peer a link; false when there is no way.
  bool connect(Peer& peer) {
    if (peer.handshake || peer.tcp_connecting || peer.tcp != nullptr) {
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

  // ---- UDP handshakes ------------------------------------------------------

  void start_handshake(Peer& peer, const asio::ip::udp::endpoint& to) {
    const Nanos now = clock_.now();
    peer.handshake.emplace(NoiseHandshake::initiator(identity_, peer.key, prologue()));
    peer.handshake_index = fresh_index();
    initiations_[peer.handshake_index] = &peer;
    std::array<std::uint8_t, NoiseHandshake::kMessage1Size> message{};
    if (!peer.handshake->write_message({}, message)) {
      abandon_handshake(peer);
      return;
    }
    write_handshake_init(peer.retransmit, peer.handshake_index, message);
    peer.retransmit_pending = true;
    peer.handshake_started = now;
    peer.retry_interval = config_.handshake_retry;
    peer.next_retry = now + peer.retry_interval;
    send_raw(to, peer.retransmit);
  }

  void abandon_handshake(Peer& peer) {
    initiations_.erase(peer.handshake_index);
    peer.handshake.reset();
    peer.retransmit_pending = false;
    if (peer.next) {
      sessions_.erase(peer.next->local_index);
      peer.next.reset();
    }
  }

  void send_raw(const asio::ip::udp::endpoint& to, Bytes datagram) {
    MutableBytes slot = udp_->prepare_send(to);
    if (slot.empty()) {
      ++counters_.dropped_queue_full;
      return;
    }
    std::copy(datagram.begin(), datagram.end(), slot.begin());
    udp_->commit_send(datagram.size());
    flush_soon_.schedule();
  }

  void on_handshake_init(const UdpMessage& m, const asio::ip::udp::endpoint& from) {
    // A retransmitted message 1 gets the same answer, no new state.
    if (auto it = half_open_by_sender_.find(m.sender_index); it != half_open_by_sender_.end()) {
      HalfOpen& h = *half_open_.at(it->second);
      if (h.from == from) {
        send_raw(from, h.response);
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
      drop_half_open(half_open_order_.front());
    }
    auto h = std::make_unique<HalfOpen>(HalfOpen{NoiseHandshake::responder(identity_, prologue()),
                                                 fresh_index(),
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
    write_handshake_response(h->response, h->local_index, h->remote_index, message);
    send_raw(from, h->response);
    half_open_by_sender_[h->remote_index] = h->local_index;
    half_open_order_.push_back(h->local_index);
    half_open_.emplace(h->local_index, std::move(h));
  }

  void drop_half_open(std::uint32_t local_index) {
    auto it = half_open_.find(local_index);
    if (it != half_open_.end()) {
      if (it->second) {
        half_open_by_sender_.erase(it->second->remote_index);
      }
      half_open_.erase(it);
    }
    std::erase(half_open_order_, local_index);
  }

  void on_handshake_response(const UdpMessage& m, const asio::ip::udp::endpoint& from) {
    auto it = initiations_.find(m.receiver_index);
    if (it == initiations_.end()) {
      ++counters_.dropped_unknown_peer;
      return;
    }
    Peer& peer = *it->second;
    if (!peer.handshake || peer.next) {
      return;  // a duplicate response: message 3 is already on its way
    }
    std::array<std::uint8_t, 16> payload{};
    if (!peer.handshake->read_message(m.payload, payload)) {
      // Forged or corrupted: this handshake state is spent; retry afresh.
      ++counters_.dropped_malformed;
      abandon_handshake(peer);
      peer.next_retry = clock_.now();
      return;
    }
    std::array<std::uint8_t, NoiseHandshake::kMessage3Size> message{};
    if (!peer.handshake->write_message({}, message)) {
      abandon_handshake(peer);
      return;
    }
    auto keys = peer.handshake->split();
    auto session = std::make_unique<UdpSession>();
    session->peer = &peer;
    session->local_index = peer.handshake_index;
    session->keys.emplace(std::move(keys.send), std::move(keys.receive), m.sender_index);
    session->created = clock_.now();
    session->remote = from;
    session->initiator = true;
    sessions_[session->local_index] = session.get();
    peer.next = std::move(session);
    write_handshake_final(peer.retransmit, m.sender_index, message);
    send_raw(from, peer.retransmit);
  }

  void on_handshake_final(const UdpMessage& m, const asio::ip::udp::endpoint& from) {
    auto it = half_open_.find(m.receiver_index);
    if (it == half_open_.end()) {
      // A retransmitted message 3 for a session we already run: the
      // initiator missed our confirmation, so send another.
      auto s = sessions_.find(m.receiver_index);
      if (s != sessions_.end() && s->second->confirmed && s->second->remote == from) {
        seal_and_send(*s->second->peer, *s->second, UdpMessageType::kKeepalive, zero_cell_);
      } else {
        ++counters_.dropped_unknown_peer;
      }
      return;
    }
    std::unique_ptr<HalfOpen> h = std::move(it->second);
    half_open_by_sender_.erase(h->remote_index);
    drop_half_open(m.receiver_index);
    std::array<std::uint8_t, 16> payload{};
    if (h->from != from || !h->handshake.read_message(m.payload, payload)) {
      ++counters_.dropped_malformed;
      ++counters_.handshakes_failed;
      return;
    }
    Peer& peer = find_or_create(h->handshake.remote_static());
    auto keys = h->handshake.split();
    auto session = std::make_unique<UdpSession>();
    session->peer = &peer;
    session->local_index = h->local_index;
    session->keys.emplace(std::move(keys.send), std::move(keys.receive), h->remote_index);
    session->created = clock_.now();
    session->remote = from;
    session->confirmed = true;
    sessions_[session->local_index] = session.get();
    install(peer, std::move(session));
    ++counters_.handshakes_completed;
    seal_and_send(peer, *peer.current, UdpMessageType::kKeepalive, zero_cell_);
    link_up(peer, LinkKind::kUdp);
  }

  // Makes `session` the one that sends; the old one keeps receiving.
  void install(Peer& peer, std::unique_ptr<UdpSession> session) {
    if (peer.previous) {
      sessions_.erase(peer.previous->local_index);
    }
    if (peer.current) {
      ++counters_.rekeys;
    }
    peer.previous = std::move(peer.current);
    peer.current = std::move(session);
    peer.last_received = clock_.now();
  }

  void confirm(Peer& peer) {
    initiations_.erase(peer.handshake_index);
    peer.handshake.reset();
    peer.retransmit_pending = false;
    auto session = std::move(peer.next);
    session->confirmed = true;
    install(peer, std::move(session));
    ++counters_.handshakes_completed;
    link_up(peer, LinkKind::kUdp);
  }

  void link_up(Peer& peer, LinkKind kind) {
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

  void drain_pending(Peer& peer) {
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

  void link_down(Peer& peer, LinkEvent event) {
    for (auto* slot : {&peer.current, &peer.previous, &peer.next}) {
      if (*slot) {
        sessions_.erase((*slot)->local_index);
        slot->reset();
      }
    }
    abandon_handshake(peer);
    peer.stats.dropped_queue_full += peer.pending.size();
    peer.pending.clear();
    const bool was_up = peer.stats.up;
    peer.stats.up = false;
    links_up_ -= was_up ? 1 : 0;
    if ((was_up || event == LinkEvent::kHandshakeFailed) && on_event_ && !stopped_) {
      on_event_(peer.key, peer.stats.kind, event);
    }
  }

  // ---- UDP data ------------------------------------------------------------

  SendResult seal_and_send(Peer& peer, UdpSession& session, UdpMessageType type, Bytes cell) {
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
    if (session.keys->send_counter() >= limit && !peer.handshake &&
        &session == peer.current.get()) {
      start_handshake(peer, session.remote);
    }
    return SendResult::kSent;
  }

  void on_udp_batch(std::span<const UdpDatagram> batch) {
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

  void on_data(const UdpMessage& m, const asio::ip::udp::endpoint& from) {
    auto it = sessions_.find(m.receiver_index);
    if (it == sessions_.end()) {
      ++counters_.dropped_unknown_peer;
      return;
    }
    UdpSession& session = *it->second;
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

  void deliver() {
    if (!rx_batch_.empty() && on_cells_ && !stopped_) {
      on_cells_(rx_batch_);
    }
    rx_batch_.clear();
  }

  // ---- TCP -----------------------------------------------------------------

  void connect_tcp(Peer& peer) {
    peer.tcp_connecting = true;
    const PeerKey key = peer.key;
    pool_->acquire_async(key, *peer.endpoints.tcp, [this, key](Result<TcpLink*> link) {
      if (stopped_) {
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

  SendResult send_tcp(Peer& peer, Bytes cell) {
    if (!peer.tcp->send_cell(cell)) {
      ++peer.stats.dropped_queue_full;
      ++counters_.dropped_queue_full;
      return SendResult::kDroppedQueueFull;
    }
    ++peer.stats.cells_sent;
    peer.stats.bytes_sent += TcpLink::kFrameSize;
    return SendResult::kSent;
  }

  void on_tcp_up(TcpLink& link) {
    Peer& peer = find_or_create(link.peer());
    if (peer.tcp == nullptr) {
      peer.tcp = &link;
    }
    ++counters_.handshakes_completed;
    link_up(peer, LinkKind::kTcp);
  }

  void on_tcp_cell(TcpLink& link, Bytes cell) {
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

  void on_tcp_closed(TcpLink& link) {
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

  // ---- timers --------------------------------------------------------------

  void arm_tick() {
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

  void on_tick() {
    const Nanos now = clock_.now();
    if (metrics_) {
      metrics_->update(counters(), links_up_);
    }
    while (!half_open_order_.empty()) {
      auto it = half_open_.find(half_open_order_.front());
      if (it != half_open_.end() && now - it->second->created < config_.handshake_timeout) {
        break;
      }
      drop_half_open(half_open_order_.front());
    }
    for (auto& [key, peer_ptr] : peers_) {
      Peer& peer = *peer_ptr;
      if (peer.handshake && now >= peer.next_retry) {
        if (now - peer.handshake_started >= config_.handshake_timeout) {
          ++counters_.handshakes_failed;
          const bool had_session = peer.current != nullptr;
          abandon_handshake(peer);
          if (!had_session) {
            peer.udp_failed = true;
            if (peer.endpoints.tcp && !peer.pending.empty()) {
              connect_tcp(peer);
            } else {
              link_down(peer, LinkEvent::kHandshakeFailed);
            }
          }
        } else if (peer.retransmit_pending) {
          const auto to = peer.next ? peer.next->remote
                                    : (peer.current ? peer.current->remote : *peer.endpoints.udp);
          send_raw(to, peer.retransmit);
          peer.retry_interval *= 2;
          peer.next_retry = now + peer.retry_interval;
        }
      } else if (!peer.handshake && peer.current &&
                 now - peer.current->created >= (peer.current->initiator
                                                     ? config_.rekey_after_time
                                                     : 2 * config_.rekey_after_time)) {
        start_handshake(peer, peer.current->remote);
      }
      if (peer.current && peer.stats.up) {
        if (now - peer.last_received >= config_.dead_after) {
          link_down(peer, LinkEvent::kDown);
          continue;
        }
        // Whether anything went out is read off the byte counter, so the
        // cell path never reads the clock for keepalives.
        if (peer.stats.bytes_sent != peer.bytes_sent_at_last_send) {
          peer.bytes_sent_at_last_send = peer.stats.bytes_sent;
          peer.last_sent = now;
        } else if (now - peer.last_sent >= config_.keepalive_interval) {
          seal_and_send(peer, *peer.current, UdpMessageType::kKeepalive, zero_cell_);
        }
      }
    }
  }

  asio::io_context& io_;
  const Clock& clock_;
  crypto::X25519KeyPair identity_;
  LinkConfig config_;
  std::unique_ptr<UdpEndpoint> udp_;
  std::unique_ptr<TcpPool> pool_;
  std::unique_ptr<TransportMetrics> metrics_;
  CellHandler on_cells_;
  EventHandler on_event_;
  TransportCounters counters_;
  std::size_t links_up_ = 0;  // peers whose stats.up is set

  std::unordered_map<PeerKey, std::unique_ptr<Peer>, PeerKeyHash> peers_;
  std::unordered_map<std::uint32_t, UdpSession*> sessions_;  // by our index
  std::unordered_map<std::uint32_t, Peer*> initiations_;     // by our handshake index
  std::unordered_map<std::uint32_t, std::unique_ptr<HalfOpen>> half_open_;  // by our index
  std::unordered_map<std::uint32_t, std::uint32_t> half_open_by_sender_;    // their -> ours
  std::deque<std::uint32_t> half_open_order_;                               // oldest first
  KeyedRateLimiter<asio::ip::address, AddressHash> handshake_limiter_;

  asio::steady_timer tick_timer_;
  std::vector<Cell> rx_cells_;
  std::vector<ReceivedCell> rx_batch_;
  Cell zero_cell_{};
  Nanos batch_now_{};
  bool stopped_ = false;
  // Every cell sent in a turn is queued; one flush per turn hands them over.
  // (After stop() the endpoint is closed and a flush does nothing.)
  async::DeferredCallback flush_soon_{io_.get_executor(), [this] { flush(); }};
  async::Gate gate_{io_.get_executor()};  // the pending tick holds it
};

// ---- LinkManager -------------------------------------------------------------

Result<std::unique_ptr<LinkManager>> LinkManager::create(asio::io_context& io, const Clock& clock,
                                                         crypto::X25519KeyPair identity,
                                                         LinkConfig config) {
  auto impl = std::make_unique<Impl>(io, clock, std::move(identity), std::move(config));
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
const TransportCounters& LinkManager::counters() const { return impl_->counters(); }
const PeerKey& LinkManager::local_key() const { return impl_->local_key(); }
std::optional<asio::ip::udp::endpoint> LinkManager::udp_local_endpoint() const {
  return impl_->udp_local_endpoint();
}
std::optional<asio::ip::tcp::endpoint> LinkManager::tcp_local_endpoint() const {
  return impl_->tcp_local_endpoint();
}
void LinkManager::stop() { impl_->stop(); }
void LinkManager::publish_metrics(metrics::Registry& registry) { impl_->publish_metrics(registry); }

}  // namespace nyx::transport
