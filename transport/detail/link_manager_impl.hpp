#pragma once
// LinkManager::Impl: the state of a LinkManager and its work, split by
// concern as wireguard-go's device/ is: the API, the UDP data path and the
// TCP links in transport/link_manager.cpp; the UDP handshake (messages 1-3,
// the half-open bound, rekeys) in transport/detail/udp_handshake.cpp; the
// timers, one function per expiry, in transport/detail/link_timers.cpp.
// Peers, the index table and the half-open table are in their own headers.
//
// Owned by its LinkManager; every call on the thread that runs the
// io_context (see transport/link_manager.hpp). Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>

#include "async/deferred_callback.hpp"
#include "async/gate.hpp"
#include "async/timer.hpp"
#include "core/keyed_rate_limiter.hpp"
#include "transport/detail/half_open_table.hpp"
#include "transport/detail/index_table.hpp"
#include "transport/detail/peer.hpp"
#include "transport/detail/transport_metrics.hpp"
#include "transport/link_manager.hpp"
#include "transport/tcp_pool.hpp"
#include "transport/udp_endpoint.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport {

class LinkManager::Impl {
 public:
  Impl(asio::io_context& io, const Clock& clock, async::TimerService& timers,
       crypto::X25519KeyPair identity, LinkConfig config);

  Status open();
  void stop();

  // ---- API (link_manager.cpp) ------------------------------------------------
  void add_peer(const PeerKey& key, PeerEndpoints endpoints);
  SendResult send(const PeerKey& key, Bytes cell);
  void flush();
  std::optional<LinkStats> stats(const PeerKey& key) const;
  std::optional<asio::ip::address> remote_address(const PeerKey& key) const;
  void publish_metrics(metrics::Registry& registry);
  void set_cell_handler(CellHandler handler) { on_cells_ = std::move(handler); }
  void set_event_handler(EventHandler handler) { on_event_ = std::move(handler); }
  const TransportCounters& counters();
  const PeerKey& local_key() const { return identity_->public_key; }
  PeerKey local_key(const PeerKey& key) const;
  std::optional<asio::ip::udp::endpoint> udp_local_endpoint() const;
  std::optional<asio::ip::tcp::endpoint> tcp_local_endpoint() const;

 private:
  using Peer = detail::Peer;
  using UdpSession = detail::UdpSession;
  using HalfOpen = detail::HalfOpen;
  using Cell = detail::Cell;

  struct AddressHash {
    std::size_t operator()(const asio::ip::address& a) const noexcept {
      return std::hash<asio::ip::address>()(a);
    }
  };

  // ---- peers and links (link_manager.cpp) ------------------------------------
  Peer& find_or_create(const PeerKey& key);
  // The static key for a link this node starts to `peer` (LinkConfig::
  // fresh_initiator_keys): a new one when no link is up, else the link's.
  std::shared_ptr<const crypto::X25519KeyPair> initiator_key(Peer& peer);
  bool connect(Peer& peer);
  void link_up(Peer& peer, LinkKind kind);
  void drain_pending(Peer& peer);
  void link_down(Peer& peer, LinkEvent event);

  // ---- UDP data (link_manager.cpp) -------------------------------------------
  void send_raw(const asio::ip::udp::endpoint& to, Bytes datagram);
  SendResult seal_and_send(Peer& peer, UdpSession& session, UdpMessageType type, Bytes cell);
  void on_udp_batch(std::span<const UdpDatagram> batch);
  void on_data(const UdpMessage& m, const asio::ip::udp::endpoint& from);
  void deliver();

  // ---- TCP (link_manager.cpp) ------------------------------------------------
  void connect_tcp(Peer& peer);
  SendResult send_tcp(Peer& peer, Bytes cell);
  void on_tcp_up(TcpLink& link);
  void on_tcp_cell(TcpLink& link, Bytes cell);
  void on_tcp_closed(TcpLink& link);

  // ---- UDP handshake (detail/udp_handshake.cpp) ------------------------------
  void start_handshake(Peer& peer, const asio::ip::udp::endpoint& to);
  void abandon_handshake(Peer& peer);
  void on_handshake_init(const UdpMessage& m, const asio::ip::udp::endpoint& from);
  void on_handshake_response(const UdpMessage& m, const asio::ip::udp::endpoint& from);
  void on_handshake_final(const UdpMessage& m, const asio::ip::udp::endpoint& from);
  std::unique_ptr<UdpSession> new_session(Peer& peer, std::uint32_t local_index,
                                          NoiseHandshake& handshake, std::uint32_t remote_index,
                                          const asio::ip::udp::endpoint& remote);
  void drop_half_open(const HalfOpen& half_open);
  void install(Peer& peer, std::unique_ptr<UdpSession> session);
  void confirm(Peer& peer);
  bool rekey_due(const Peer& peer, Nanos now) const;

  // ---- timers (detail/link_timers.cpp) ---------------------------------------
  void arm_tick();
  void on_tick();
  void tick_peer(Peer& peer, Nanos now);
  void expired_metrics_interval();
  void expired_half_open(Nanos now);
  void expired_handshake(Peer& peer);
  void expired_retransmit_handshake(Peer& peer, Nanos now);
  void expired_rekey(Peer& peer);
  void expired_dead_link(Peer& peer);
  void expired_keepalive(Peer& peer);

  asio::io_context& io_;
  const Clock& clock_;
  async::TimerService& timers_;
  std::shared_ptr<const crypto::X25519KeyPair> identity_;
  LinkConfig config_;
  std::unique_ptr<UdpEndpoint> udp_;
  std::unique_ptr<TcpPool> pool_;
  std::unique_ptr<detail::TransportMetrics> metrics_;
  CellHandler on_cells_;
  EventHandler on_event_;
  TransportCounters counters_;
  std::size_t links_up_ = 0;  // peers whose stats.up is set

  std::unordered_map<PeerKey, std::unique_ptr<Peer>, PeerKeyHash> peers_;
  detail::IndexTable index_;         // our index -> handshake, half-open or session
  detail::HalfOpenTable half_open_;  // responder handshakes awaiting message 3
  KeyedRateLimiter<asio::ip::address, AddressHash> handshake_limiter_;

  async::Timer tick_timer_;
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

}  // namespace nyx::transport
