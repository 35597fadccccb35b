#pragma once
// LinkManager: the one thing the transport gives the layer above — encrypted,
// authenticated links to neighbour nodes that carry fixed-size cells.
//
// Peers are named by their static X25519 link public key (PeerKey). The
// initiator learns a peer's key and endpoints from the directory and hands
// them over with add_peer(); a peer that connects to us is learnt from its
// handshake. send() delivers one kCellSize cell to a peer: it starts the Noise
// XK handshake on demand (UDP first; TCP when the peer has no UDP endpoint,
// when UDP is configured off, or when the UDP handshake fails) and never
// blocks: a cell that does not fit a bounded queue, or that exceeds the
// peer's bandwidth limit, is dropped and counted. Arriving cells go to the
// cell handler in batches, each with the key of the peer it came from; link
// up and down events go to the event handler. The wire formats are in
// docs/protocol.md, "Links (transport)".
//
// Time: decisions read the injected Clock and the tick timer runs on the
// injected TimerService on that clock's axis (the daemon passes SteadyClock
// and SteadyTimers; tests ManualClock and ManualTimers, and move time).
//
// Ownership and threading: a LinkManager belongs to one shard. It is created
// on, and every method is called on, the thread that runs its io_context;
// handlers are called on that thread too. It is not thread-safe. stop()
// cancels its timers and closes its sockets; destroy it only after the
// io_context has stopped running its handlers or after stop() returned and
// the io_context ran until idle.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include "async/timer_service.hpp"
#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "transport/peer_key.hpp"

namespace asio {
class io_context;
}
namespace nyx::metrics {
class Registry;
}

namespace nyx::transport {

// Where a peer can be reached; either may be absent.
struct PeerEndpoints {
  std::optional<asio::ip::udp::endpoint> udp;
  std::optional<asio::ip::tcp::endpoint> tcp;
};

enum class LinkKind : std::uint8_t { kUdp, kTcp };
enum class LinkEvent : std::uint8_t { kUp, kDown, kHandshakeFailed };

// What send() did with a cell. Everything but kSent is a counted drop.
enum class SendResult : std::uint8_t {
  kSent,                // encrypted and queued on an established link
  kQueued,              // held (bounded) until the handshake completes
  kDroppedRateLimited,  // over the peer's bandwidth limit
  kDroppedQueueFull,    // the link's queue is full
  kDroppedNoRoute,      // unknown peer or no usable endpoint
  kDroppedBadSize,      // cell.size() != kCellSize
};

// Per-peer counters (monotonic while the peer is known).
struct LinkStats {
  std::uint64_t cells_sent = 0;
  std::uint64_t cells_received = 0;
  std::uint64_t bytes_sent = 0;      // wire bytes, framing included
  std::uint64_t bytes_received = 0;  // wire bytes, framing included
  std::uint64_t dropped_rate_limited = 0;
  std::uint64_t dropped_queue_full = 0;
  bool up = false;
  LinkKind kind = LinkKind::kUdp;
};

// Endpoint-wide counters (the nyx_transport_* metrics).
struct TransportCounters {
  std::uint64_t udp_packets_received = 0;
  std::uint64_t udp_packets_sent = 0;
  std::uint64_t udp_bytes_received = 0;
  std::uint64_t udp_bytes_sent = 0;
  std::uint64_t udp_batches_received = 0;
  std::uint64_t udp_batches_sent = 0;
  std::uint64_t dropped_malformed = 0;     // wrong size, type or failed authentication
  std::uint64_t dropped_unknown_peer = 0;  // no session for the receiver index
  std::uint64_t dropped_replay = 0;        // outside or already in the replay window
  std::uint64_t dropped_rate_limited = 0;  // handshakes over the per-address limit
  std::uint64_t dropped_queue_full = 0;    // send or half-open queue full
  std::uint64_t handshakes_completed = 0;
  std::uint64_t handshakes_failed = 0;
  std::uint64_t rekeys = 0;
};

struct LinkConfig {
  // The static key this node shows on the links it starts: false, its
  // identity (relays, whom the directory names by it); true, a key drawn
  // for each new link to a neighbour, kept through that link's rekeys and
  // never used again (client nodes: no entry can link two of their links or
  // two runs by key; docs/protocol.md, "Handshake").
  bool fresh_initiator_keys = false;

  // UDP socket; the default binds every IPv6 and IPv4 address, any port.
  asio::ip::udp::endpoint udp_listen{asio::ip::address_v6::any(), 0};
  bool udp_enabled = true;
  // TCP listener for inbound links; absent: outbound TCP only.
  std::optional<asio::ip::tcp::endpoint> tcp_listen;
  int socket_receive_buffer = 4 << 20;
  int socket_send_buffer = 4 << 20;

  // Bounds.
  std::size_t pending_cells_per_peer = 1024;  // held while a handshake runs
  std::size_t max_half_open = 1024;           // responder handshakes awaiting message 3
  std::size_t tcp_max_buffered_bytes = 1 << 20;

  // Per-peer outgoing bandwidth limit in bytes/s of cells; 0 = unlimited.
  double peer_rate_bytes = 0;
  double peer_burst_bytes = 256 * 1024;
  // Inbound handshakes per source address.
  double handshakes_per_second_per_address = 20;
  double handshake_burst_per_address = 10;

  // Timing (decisions read the injected clock; a tick timer wakes them).
  Nanos tick{std::chrono::milliseconds(50)};
  Nanos handshake_retry{std::chrono::milliseconds(200)};  // doubles per retry
  Nanos handshake_timeout{std::chrono::seconds(5)};
  Nanos keepalive_interval{std::chrono::seconds(10)};
  Nanos dead_after{std::chrono::seconds(30)};  // nothing received for this long: link down
  Nanos rekey_after_time{std::chrono::seconds(120)};
  std::uint64_t rekey_after_messages = std::uint64_t{1} << 48;
  Nanos tcp_connect_timeout{std::chrono::seconds(5)};
};

// One received cell; both spans are valid only during the handler call.
struct ReceivedCell {
  const PeerKey* peer;
  Bytes cell;  // kCellSize bytes
  LinkKind kind;
};

class LinkManager {
 public:
  using CellHandler = std::function<void(std::span<const ReceivedCell>)>;
  using EventHandler = std::function<void(const PeerKey&, LinkKind, LinkEvent)>;

  // Binds the sockets. Fails with kIo when a socket cannot be opened or bound.
  static Result<std::unique_ptr<LinkManager>> create(asio::io_context& io, const Clock& clock,
                                                     async::TimerService& timers,
                                                     crypto::X25519KeyPair identity,
                                                     LinkConfig config);
  ~LinkManager();
  LinkManager(const LinkManager&) = delete;
  LinkManager& operator=(const LinkManager&) = delete;

  void set_cell_handler(CellHandler handler);
  void set_event_handler(EventHandler handler);

  // Registers (or updates) how to reach a peer.
  void add_peer(const PeerKey& peer, PeerEndpoints endpoints);

  // Sends one cell (cell.size() must be kCellSize). UDP datagrams are handed
  // to the kernel in batches at the end of the current event-loop turn;
  // flush() does it now.
  SendResult send(const PeerKey& peer, Bytes cell);
  void flush();

  std::optional<LinkStats> stats(const PeerKey& peer) const;
  // The remote address of the peer's link (its UDP session, else its TCP
  // connection); none while no link is up.
  std::optional<asio::ip::address> remote_address(const PeerKey& peer) const;
  const TransportCounters& counters() const;
  // Publishes the TransportCounters as nyx_transport_* metrics in `registry`
  // (which must outlive this manager), with the gauge nyx_transport_links_up
  // (peers whose link is up), brought up to date on every tick.
  void publish_metrics(metrics::Registry& registry);
  const PeerKey& local_key() const;
  // The static key this node shows `peer` on its current link: local_key()
  // unless fresh_initiator_keys gave that link its own.
  PeerKey local_key(const PeerKey& peer) const;
  std::optional<asio::ip::udp::endpoint> udp_local_endpoint() const;
  std::optional<asio::ip::tcp::endpoint> tcp_local_endpoint() const;

  // Cancels timers and handshakes and closes every socket; no handler is
  // called afterwards.
  void stop();

  class Impl;

 private:
  explicit LinkManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nyx::transport
