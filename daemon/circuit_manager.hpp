#pragma once
// CircuitManager: the client's circuits, as the SOCKS bridge's CircuitSource.
//
// One mix::CircuitPool per isolation key, so streams with different SOCKS
// credentials never share a circuit: the default key (no credentials) keeps
// `prebuilt` circuits ready ahead of demand, the others build on demand and
// are forgotten once their last circuit is gone. A circuit gets an initiator
// CircuitSession when it first carries a stream; the session lives until the
// pool retires the circuit (its retire handler) or the circuit closes.
//
// acquire() waits for an open circuit whose exit allows the destination. A
// circuit that fails to build (a dead relay on its path: setup timeout or
// DESTROY) is replaced through a fresh path, after a short pause, until the
// acquire deadline. A
// session that ends while its circuit is still open (idle timeout, CLOSE
// from the exit) closes the circuit, so it is never handed out again.
//
// Time: the acquire deadline and the pause read the injected Clock and wait
// on the injected TimerService on its axis, as do the sessions it makes.
//
// Owned by the node's cell shard beside the Relay (which must outlive it);
// every call on the shard's thread. maintain() runs from the shard's tick.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>

#include "async/async_event.hpp"
#include "async/deferred_callback.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/socks_bridge.hpp"
#include "document/descriptor.hpp"
#include "mix/circuit_pool.hpp"
#include "mix/path_selector.hpp"
#include "mix/relay.hpp"

namespace nyx::metrics {
class Registry;
}  // namespace nyx::metrics

namespace nyx::daemon {

struct CircuitManagerOptions {
  mix::CircuitPoolConfig pool{};
  // How long acquire() waits for a circuit, builds and rebuilds included.
  std::chrono::milliseconds acquire_timeout{30'000};
  double cover_rate = 0;  // cover cells per second per circuit
  stream::SessionConfig session{};
};

// One client circuit as circuits.list shows it.
struct ClientCircuitInfo {
  std::uint64_t id = 0;
  mix::Circuit::State state = mix::Circuit::State::kBuilding;
  Nanos age{0};
  std::uint32_t streams_open = 0;
  std::uint32_t streams_total = 0;
  bool retired = false;
  bool isolated = false;            // carries streams of a non-default isolation key
  std::optional<Nanos> setup_time;  // from CREATE to CREATED, once open
  std::vector<crypto::Ed25519PublicKey> hops;
};

// One stream as streams.list shows it (never its destination).
struct ClientStreamInfo {
  std::uint64_t id = 0;
  std::uint64_t circuit = 0;
  StreamTraffic traffic;
};

class CircuitManager final : public CircuitSource {
 public:
  // `timers` must be the service whose clock() is `clock`.
  CircuitManager(asio::io_context& io, const Clock& clock, async::TimerService& timers,
                 mix::Relay& relay, mix::RandomSource& random, CircuitManagerOptions options = {});
  ~CircuitManager() override;
  CircuitManager(const CircuitManager&) = delete;
  CircuitManager& operator=(const CircuitManager&) = delete;

  // The nodes paths are drawn from: the verified directory without this node.
  void set_nodes(std::vector<document::NodeDescriptor> nodes);
  // Retires, forgets and prebuilds circuits; wakes acquirers.
  void maintain();
  // Closes every session and circuit and fails every waiting acquire (the
  // node's shutdown); acquire() fails from then on.
  void close_all();

  asio::awaitable<Result<CircuitSession*>> acquire(const IsolationKey& isolation,
                                                   const Socks5Destination& destination) override;
  void release(const CircuitSession* session) override;

  // Starts a circuit in the default pool now; its id for circuits.list.
  Result<std::uint64_t> build();
  // Closes a client circuit by id (DESTROY along it); kNotFound if none.
  Status close(std::uint64_t id);
  // A new identity, as Tor's NEWNYM: every circuit of every pool stops
  // taking streams (those it carries run on), so the next stream gets a
  // fresh circuit; the default pool starts rebuilding at once. Returns how
  // many circuits were retired.
  std::size_t newnym();

  std::vector<ClientCircuitInfo> circuits() const;
  std::vector<ClientStreamInfo> streams() const;
  // streams().size(), without building the list (read on every tick).
  std::size_t stream_count() const;

  // Registers nyx_circuit_builds_total{result} and
  // nyx_circuit_build_duration_seconds in `registry`, which must outlive the
  // manager; builds are counted from then on.
  void publish_metrics(metrics::Registry& registry);

 private:
  struct Pool;
  struct BuildMetrics;
  // What the manager keeps beside each pooled circuit.
  struct Attached {
    std::uint64_t id = 0;  // for listings, in build order
    bool isolated = false;
    std::optional<Nanos> setup_time;
    std::unique_ptr<CircuitSession> session;  // made at the first stream
    // Closes the circuit in the turn after its session ended.
    std::unique_ptr<async::DeferredCallback> close_circuit;
  };

  Pool& pool_for(const IsolationKey& isolation);
  // Gives the pool's new circuits an id and a state handler.
  void adopt(Pool& pool);
  CircuitSession& session_for(mix::Circuit& circuit);
  // The circuit is about to be destroyed: its session goes first.
  void on_retire(mix::Circuit& circuit);
  void notify();  // something changed: waiting acquirers look again

  asio::io_context& io_;
  const Clock& clock_;
  async::TimerService& timers_;
  mix::Relay& relay_;
  mix::PathSelector paths_;
  CircuitManagerOptions options_;
  std::vector<document::NodeDescriptor> nodes_;
  std::map<IsolationKey, std::unique_ptr<Pool>> pools_;
  std::unordered_map<mix::Circuit*, Attached> attached_;
  std::unordered_map<const CircuitSession*, mix::Circuit*> by_session_;
  std::uint64_t next_id_ = 1;
  std::uint64_t failed_builds_ = 0;        // circuits that closed before opening
  std::unique_ptr<BuildMetrics> metrics_;  // set by publish_metrics()
  bool closed_ = false;
  // Acquirers wait on this event; notify() sets it, which wakes them all.
  async::AsyncEvent changed_;
};

}  // namespace nyx::daemon
