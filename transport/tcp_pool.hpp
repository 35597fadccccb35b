#pragma once
// TcpPool: the pooled TCP connection manager, keyed by peer.
//
// acquire() hands out an established, healthy TcpLink: a pooled idle one on
// a hit (try_acquire, no allocation, no syscall), otherwise a new connect
// with a timeout followed by the Noise handshake. release() returns it.
// Limits per peer and in total; idle links are evicted after idle_timeout;
// after a failed connect the peer backs off (exponential, with jitter)
// before the next attempt. Health is real: every link keeps a read pending,
// so the EOF or reset of a closed peer marks it dead and takes it out of the
// pool as soon as the event loop sees it, and the upkeep tick probes idle
// links with a non-blocking peek as well; a dead link is never handed out.
// It also accepts inbound links when told to listen.
//
// Time: back-off reads the injected Clock; the upkeep tick and the connect
// and handshake deadlines run on the injected TimerService (same axis).
//
// One shard; not thread-safe. stop() closes everything and cancels upkeep,
// and aborts the connects and handshakes still in flight by closing their
// sockets: their coroutines then resume with an error, see the closed gate
// they hold and end without touching the pool, even when it has been
// destroyed (a handshake in flight reads the pool's identity key, so it must
// not outlive the pool).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "async/gate.hpp"
#include "async/timer.hpp"
#include "core/clock.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "transport/peer_key.hpp"
#include "transport/tcp_link.hpp"

namespace nyx::transport {

struct TcpPoolConfig {
  Nanos connect_timeout{std::chrono::seconds(5)};  // connect and handshake together
  Nanos idle_timeout{std::chrono::seconds(60)};
  Nanos upkeep_interval{std::chrono::seconds(1)};
  Nanos backoff_initial{std::chrono::milliseconds(100)};
  Nanos backoff_max{std::chrono::seconds(30)};
  std::size_t max_per_peer = 4;
  std::size_t max_total = 1024;
  std::size_t max_buffered_bytes = 1 << 20;
};

struct TcpPoolCounters {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;       // idle timeout
  std::uint64_t dead_discarded = 0;  // found closed or reset
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t connect_latency_ns_total = 0;  // mean = total / connects
  std::uint64_t accepted = 0;
};

class TcpPool {
 public:
  using AcquireHandler = std::function<void(Result<TcpLink*>)>;
  using CellHandler = std::function<void(TcpLink&, Bytes)>;
  using LinkHandler = std::function<void(TcpLink&)>;

  TcpPool(asio::io_context& io, const Clock& clock, async::TimerService& timers,
          const crypto::X25519KeyPair& identity, TcpPoolConfig config);
  ~TcpPool();
  TcpPool(const TcpPool&) = delete;
  TcpPool& operator=(const TcpPool&) = delete;

  void set_cell_handler(CellHandler handler) { on_cell_ = std::move(handler); }
  void set_closed_handler(LinkHandler handler) { on_closed_ = std::move(handler); }
  void set_accepted_handler(LinkHandler handler) { on_accepted_ = std::move(handler); }

  // Accepts inbound links on `at` (they are handed to the accepted handler,
  // in use, not pooled).
  Status listen(const asio::ip::tcp::endpoint& at);
  std::optional<asio::ip::tcp::endpoint> local_endpoint() const;

  // The hit path: a pooled healthy link for the peer, or nullptr.
  TcpLink* try_acquire(const PeerKey& peer) noexcept {
    auto it = peers_.find(peer);
    if (it == peers_.end()) {
      return nullptr;
    }
    auto& idle = it->second.idle;
    while (!idle.empty()) {
      TcpLink* link = idle.back();
      idle.pop_back();
      if (link->healthy()) {
        ++it->second.in_use;
        ++counters_.hits;
        return link;
      }
      ++counters_.dead_discarded;
      discard(link);
    }
    return nullptr;
  }

  // A hit, or a new connection to `at` (connect, then handshake). With a
  // `local_static` other than the pool's identity, the new connection shows
  // that key and skips the pooled ones: such a link is one link's, never
  // pooled for reuse (that would carry its key over to another link).
  asio::awaitable<Result<TcpLink*>> acquire(
      PeerKey peer, asio::ip::tcp::endpoint at,
      std::shared_ptr<const crypto::X25519KeyPair> local_static = {});
  // The same with a completion callback (always called, on this shard).
  void acquire_async(const PeerKey& peer, const asio::ip::tcp::endpoint& at,
                     AcquireHandler handler) {
    acquire_async(peer, at, {}, std::move(handler));
  }
  void acquire_async(const PeerKey& peer, const asio::ip::tcp::endpoint& at,
                     std::shared_ptr<const crypto::X25519KeyPair> local_static,
                     AcquireHandler handler);

  // Returns a link; a dead one, or one over the per-peer limit, is closed.
  void release(TcpLink* link) noexcept {
    auto it = peers_.find(link->peer());
    if (it == peers_.end()) {
      return;
    }
    auto& entry = it->second;
    if (entry.in_use > 0) {
      --entry.in_use;
    }
    if (!link->healthy() || entry.idle.size() >= config_.max_per_peer ||
        &link->local_static() != identity_.get()) {
      discard(link);
      return;
    }
    link->idle_since = ticks_;
    entry.idle.push_back(link);
  }

  std::size_t idle_count(const PeerKey& peer) const;
  std::size_t size() const noexcept { return links_.size(); }
  const TcpPoolCounters& counters() const noexcept { return counters_; }
  void stop();

 private:
  struct PeerEntry {
    std::vector<TcpLink*> idle;
    std::size_t in_use = 0;
    std::size_t connecting = 0;
    Nanos next_attempt{};
    Nanos backoff{};
  };

  void discard(TcpLink* link);
  void on_link_closed(TcpLink& link);
  void adopt(std::shared_ptr<TcpLink> link);
  asio::awaitable<void> accept_loop(async::Gate::Holder pass);
  asio::awaitable<void> inbound_handshake(std::shared_ptr<TcpLink> link, async::Gate::Holder pass);
  asio::awaitable<void> upkeep_loop(async::Gate::Holder pass);
  void upkeep();

  asio::io_context& io_;
  const Clock& clock_;
  async::TimerService& timers_;
  std::shared_ptr<const crypto::X25519KeyPair> identity_;  // not owned: the constructor's
  TcpPoolConfig config_;
  std::unordered_map<PeerKey, PeerEntry, PeerKeyHash> peers_;
  std::unordered_map<TcpLink*, std::shared_ptr<TcpLink>> links_;  // owns every link
  // In flight, so that stop() can abort them: outbound connects (the socket
  // lives in the acquiring coroutine's frame) and handshakes either way.
  std::unordered_set<asio::ip::tcp::socket*> connecting_;
  std::unordered_set<std::shared_ptr<TcpLink>> handshaking_;
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  async::Timer upkeep_timer_;
  CellHandler on_cell_;
  LinkHandler on_closed_;
  LinkHandler on_accepted_;
  TcpPoolCounters counters_;
  std::uint64_t ticks_ = 0;
  bool stopped_ = false;
  async::Gate gate_;  // every coroutine of the pool holds it
};

}  // namespace nyx::transport
