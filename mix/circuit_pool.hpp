#pragma once
// CircuitPool: a client's supply of circuits. It keeps `prebuilt` circuits
// open or building ahead of demand, through paths the PathSelector draws
// from the directory; acquire() hands out an open circuit whose exit allows
// the destination and counts a stream on it. A circuit retires once it is
// older than max_age, has carried max_streams streams, or has carried
// cell_soft cells either way (CELL_SOFT, docs/protocol.md "Limits": well
// before the relays' hard cap ends it mid-stream): it gets no new streams
// and is closed when its last stream is released.
//
// Whoever attached something to a circuit (a stream session reading from it)
// learns of its end through the retire handler, called just before the pool
// destroys the circuit, so nothing is left pointing at it.
//
// A stream waiting for a circuit is not left behind one slow build. A path
// through a relay that died since the consensus listed it stalls until the
// relay's setup timeout (10 s); the next draw avoids it with a fair chance.
// So once every build for the destination is older than the hedge delay,
// acquire() starts another through a fresh path beside them, up to
// max_building at once; the first to open serves, the others open for later
// streams or time out. The hedge delay is three times the median of the
// last 16 build times (record_build_time), kept within [hedge_min,
// hedge_max]: on a fast network a stalled build is spotted in half a second,
// on a slow one a normal build is not doubled. It only launches what a
// failed build would launch 10 s later, through the same random paths, as
// Tor's circuit build timeout does (path-spec 2.4).
//
// Owned by the client's shard beside its Relay (which must outlive it);
// not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "document/descriptor.hpp"
#include "mix/circuit.hpp"
#include "mix/path_selector.hpp"

namespace nyx::mix {

class Relay;

struct CircuitPoolConfig {
  std::size_t prebuilt = 2;
  std::size_t hops = kDefaultHops;
  Nanos max_age{std::chrono::minutes(10)};
  std::uint32_t max_streams = 64;
  std::uint64_t cell_soft = std::uint64_t{1} << 24;  // CELL_SOFT
  // Hedged builds (see the class comment); hedge_max also before any build
  // time is known.
  Nanos hedge_min{std::chrono::milliseconds(500)};
  Nanos hedge_max{std::chrono::seconds(3)};
  std::size_t max_building = 4;               // builds for one destination at once
  SubnetRule subnets = SubnetRule::kEnforce;  // hops in one /16 or /32: see PathRequest
};

// One circuit of the pool as its owner sees it (for listings).
struct PooledCircuit {
  std::unique_ptr<Circuit> circuit;
  document::AdvertisedExitRules exit_rules;
  std::vector<crypto::Ed25519PublicKey> hops;  // identity keys, entry first
  Nanos born{0};
  std::uint32_t streams_total = 0;
  std::uint32_t streams_open = 0;
  bool retired = false;
};

class CircuitPool {
 public:
  using RetireHandler = std::function<void(Circuit&)>;

  CircuitPool(Relay& relay, PathSelector& paths, const Clock& clock, CircuitPoolConfig config = {});

  // The nodes paths are drawn from (the verified directory, without this node).
  void set_nodes(std::vector<document::NodeDescriptor> nodes) { nodes_ = std::move(nodes); }

  // Forgets closed circuits, retires old ones, closes retired ones without
  // streams and builds fresh ones up to `prebuilt`.
  Status maintain();
  // An open circuit for `destination` ("host:port"), with one more stream
  // counted on it; null while none is ready (one is then being built); the
  // path selector's error when no circuit can be built for it.
  Result<Circuit*> acquire(std::string_view destination);
  // The stream acquired on `circuit` has ended.
  void release(const Circuit* circuit);
  // Starts one more circuit, through an exit that allows `destination` (any
  // exit when empty), whether or not one is needed (circuit.build).
  Status build(std::string_view destination = {});
  // Retires every circuit (a new identity, circuits.newnym): none takes a
  // new stream, their streams run on, and maintain() builds fresh ones.
  // Returns how many were not retired before.
  std::size_t retire_all();

  // A build that opened took `duration` (from create to open).
  void record_build_time(Nanos duration);
  // How old every build for a destination must be before acquire() starts
  // another beside them.
  Nanos hedge_delay() const;

  // Called with each circuit maintain() is about to destroy.
  void set_retire_handler(RetireHandler handler) { on_retire_ = std::move(handler); }

  std::size_t size() const noexcept { return entries_.size(); }
  const std::vector<PooledCircuit>& circuits() const noexcept { return entries_; }

 private:
  // Retires `entry` once it is past max_age or cell_soft.
  void retire_if_spent(PooledCircuit& entry, Nanos now) const;

  Relay& relay_;
  PathSelector& paths_;
  const Clock& clock_;
  CircuitPoolConfig config_;
  std::vector<document::NodeDescriptor> nodes_;
  std::vector<PooledCircuit> entries_;
  RetireHandler on_retire_;
  static constexpr std::size_t kBuildTimeSamples = 16;
  std::array<Nanos, kBuildTimeSamples> build_times_{};  // a ring, oldest overwritten
  std::size_t build_time_count_ = 0;                    // samples recorded, ever
};

}  // namespace nyx::mix
