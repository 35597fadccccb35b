// CircuitManager over a real small network: node 0 is the client (its Relay
// under the manager), nodes 1..4 are relays and exits, each a mix::Relay on
// its own LinkManager (Noise over UDP on 127.0.0.1), all on one io_context
// the test polls until a condition holds or a deadline passes. The links run
// in real time; the manager's clock and timers (the acquire deadline, the
// pause after a failed build, the sessions) are simulated, and the tests
// that wait on them move time exactly to their deadlines.
#include "daemon/circuit_manager.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "async/spawn.hpp"
#include "core/metrics/registry.hpp"
#include "mix/support/loopback_network.hpp"
#include "support/run_until.hpp"

namespace nyx::daemon {
namespace {

using namespace std::chrono_literals;
using document::NodeDescriptor;
using mix::Circuit;

// Scripted path draws, so each test knows the path of every build: the
// first `first_candidate` draws take the first candidate, every later draw
// the last one. With the directory {1, 2, 3, 4} the first three draws give
// the path 3 -> 2 -> 1 (exit 1), and every path after that 2 -> 3 -> 4.
class ScriptedRandom final : public mix::RandomSource {
 public:
  std::uint64_t uniform(std::uint64_t bound) override {
    if (first_candidate > 0) {
      --first_candidate;
      return 0;
    }
    return bound - 1;
  }
  int first_candidate = 0;
};

// Records the events a stream handler gets.
class RecordingHandler final : public StreamHandler {
 public:
  void on_stream_event(const stream::Event& event) override { events.push_back(event.type); }
  bool saw(stream::EventType type) const {
    return std::find(events.begin(), events.end(), type) != events.end();
  }
  std::vector<stream::EventType> events;
};

using Acquired = std::optional<Result<CircuitSession*>>;

// After a failed build a waiting acquire pauses this long (circuit_manager.cpp).
constexpr Nanos kRebuildPause = 200ms;

Socks5Destination web() {
  return {.type = Socks5AddressType::kDomain, .host = "example.org", .port = 80};
}
// Every test exit rejects port 25.
Socks5Destination smtp() {
  return {.type = Socks5AddressType::kDomain, .host = "example.org", .port = 25};
}

// Every node's onion key becomes its neighbour's: each CREATE fails at the
// entry.
void give_every_node_its_neighbours_onion_key(std::vector<NodeDescriptor>& dir) {
  const auto first = dir[0].onion_key;
  for (std::size_t i = 0; i + 1 < dir.size(); ++i) {
    dir[i].onion_key = dir[i + 1].onion_key;
  }
  dir.back().onion_key = first;
}

class CircuitManagerTest : public mix::testing::LoopbackTest {
 protected:
  static constexpr int kRelays = 4;

  // Starts the network and a manager on node 0 whose directory holds nodes
  // 1..4, as `edit` leaves it.
  void start_manager(CircuitManagerOptions options = {},
                     const std::function<void(std::vector<NodeDescriptor>&)>& edit = {}) {
    start(kRelays + 1);
    for (int i = 1; i <= kRelays; ++i) {
      directory.push_back(node(i).keys.descriptor);
    }
    if (edit) {
      edit(directory);
    }
    manager = std::make_unique<CircuitManager>(io, manual_clock, timers, *node(0).relay, random,
                                               std::move(options));
    manager->publish_metrics(registry);
    manager->set_nodes(directory);
  }

  void TearDown() override {
    // Every acquire still running ends (kClosed) while the manager lives,
    // waiting or pausing: their frames hold timers on `timers`, which goes
    // before the io_context does.
    if (manager) {
      manager->close_all();
      test::poll_ready(io);
    }
    manager.reset();
    LoopbackTest::TearDown();
  }

  // Waits (in real time) until `count` builds failed, then runs what that
  // set off: the waiting acquire starts its pause at this simulated moment.
  void until_failed_builds(std::uint64_t count) {
    ASSERT_TRUE(run_until([&] { return builds("failed") == count; }));
    test::poll_ready(io);
  }

  // The value of nyx_circuit_builds_total{result=`result`}.
  std::uint64_t builds(const std::string& result) {
    return registry.counter("nyx_circuit_builds_total", "", {{"result", result}}).value();
  }
  std::uint64_t timed_builds() {
    return registry
        .histogram("nyx_circuit_build_duration_seconds", "",
                   metrics::exponential_buckets(0.005, 2, 12))
        .snapshot()
        .count;
  }

  // Starts an acquire on the io_context; its result appears once it ends.
  std::shared_ptr<Acquired> acquire(IsolationKey isolation = {},
                                    Socks5Destination destination = web()) {
    auto out = std::make_shared<Acquired>();
    async::spawn(io.get_executor(),
                 acquire_into(*manager, std::move(isolation), std::move(destination), out),
                 "acquire", [](const Error& failure) { ADD_FAILURE() << failure.message; });
    return out;
  }
  static asio::awaitable<void> acquire_into(CircuitManager& manager, IsolationKey isolation,
                                            Socks5Destination destination,
                                            std::shared_ptr<Acquired> out) {
    out->emplace(co_await manager.acquire(isolation, destination));
  }

  // `out` has not ended one nanosecond before `deadline` (simulated) and has
  // ended with kTimeout at it.
  void expect_times_out_at(const std::shared_ptr<Acquired>& out, Nanos deadline) {
    ASSERT_LT(manual_clock.now(), deadline);
    timers.advance(deadline - manual_clock.now() - 1ns);
    EXPECT_FALSE(out->has_value()) << "ended before its deadline";
    timers.advance(1ns);
    ASSERT_TRUE(out->has_value()) << "still waiting at its deadline";
    ASSERT_FALSE(out->value().has_value());
    EXPECT_EQ(out->value().error().category, ErrorCategory::kTimeout);
  }

  // Runs until the acquire ended and returns its session (null on failure).
  CircuitSession* acquired(const std::shared_ptr<Acquired>& out) {
    EXPECT_TRUE(run_until([&] { return out->has_value(); }));
    if (!out->has_value()) {
      return nullptr;
    }
    EXPECT_TRUE(out->value().has_value()) << out->value().error().message;
    return out->value().value_or(nullptr);
  }

  std::vector<crypto::Ed25519PublicKey> identities(const std::vector<int>& path) {
    std::vector<crypto::Ed25519PublicKey> out;
    for (int i : path) {
      out.push_back(node(i).keys.descriptor.identity_key);
    }
    return out;
  }

  std::size_t relayed_circuits() {
    std::size_t total = 0;
    for (int i = 1; i <= kRelays; ++i) {
      total += node(i).relay->circuit_count();
    }
    return total;
  }

  // On manual_clock; made before the manager, whose timers it fires.
  async::ManualTimers timers{io, manual_clock};
  ScriptedRandom random;
  std::vector<NodeDescriptor> directory;
  // Outlive the manager: its sessions tell them kClosed when destroyed.
  RecordingHandler recorder;
  RecordingHandler other_recorder;
  metrics::Registry registry;  // outlives the manager, which counts into it
  std::unique_ptr<CircuitManager> manager;
};

TEST_F(CircuitManagerTest, AcquireWaitsForThePrebuiltCircuitAndReusesItPerIsolationKey) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 1;
  start_manager(options);
  manager->maintain();
  ASSERT_EQ(manager->circuits().size(), 1u);
  EXPECT_EQ(manager->circuits()[0].state, Circuit::State::kBuilding);

  auto first = acquire();
  CircuitSession* session = acquired(first);
  ASSERT_NE(session, nullptr);
  EXPECT_FALSE(session->is_closed());
  auto listed = manager->circuits();
  // It waited for the prebuilt circuit rather than building its own.
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state, Circuit::State::kOpen);
  EXPECT_EQ(listed[0].streams_open, 1u);
  EXPECT_FALSE(listed[0].isolated);

  auto second = acquire();
  EXPECT_EQ(acquired(second), session);
  listed = manager->circuits();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].streams_total, 2u);

  auto isolated = acquire(IsolationKey{"u", "p"});
  CircuitSession* other = acquired(isolated);
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other, session);
  listed = manager->circuits();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_FALSE(listed[0].isolated);
  EXPECT_TRUE(listed[1].isolated);
  EXPECT_EQ(listed[1].state, Circuit::State::kOpen);
  EXPECT_EQ(listed[1].streams_open, 1u);
  EXPECT_EQ(listed[0].streams_open, 2u);
  EXPECT_EQ(builds("opened"), 2u);
  EXPECT_EQ(builds("failed"), 0u);
  EXPECT_EQ(timed_builds(), 2u);
}

TEST_F(CircuitManagerTest, DestinationNoExitAllowsFailsAtOnceWithPermission) {
  start_manager();
  auto out = acquire({}, smtp());
  io.poll();
  ASSERT_TRUE(out->has_value());
  ASSERT_FALSE(out->value().has_value());
  EXPECT_EQ(out->value().error().category, ErrorCategory::kPermission);
  EXPECT_TRUE(manager->circuits().empty());
  EXPECT_EQ(node(0).tap->sent(mix::CellCommand::kCreate), 0u);
}

TEST_F(CircuitManagerTest, CircuitThatFailsToBuildIsReplacedThroughAFreshPath) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 0;
  options.acquire_timeout = 10s;
  // The directory gives exit 1 a wrong onion key: its CREATE fails there.
  start_manager(options,
                [](std::vector<NodeDescriptor>& dir) { dir[0].onion_key = dir[1].onion_key; });
  random.first_candidate = 3;  // the first path ends at node 1

  const Nanos started = manual_clock.now();
  auto out = acquire();
  ASSERT_NO_FATAL_FAILURE(until_failed_builds(1));
  // The replacement waits out the pause after the failure, and no longer.
  timers.advance(kRebuildPause - 1ns);
  EXPECT_EQ(node(0).tap->sent(mix::CellCommand::kCreate), 1u);
  timers.advance(1ns);
  EXPECT_EQ(node(0).tap->sent(mix::CellCommand::kCreate), 2u);
  CircuitSession* session = acquired(out);
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(manual_clock.now() - started, kRebuildPause);
  EXPECT_EQ(node(1).relay->counters().creates_rejected, 1u);

  auto listed = manager->circuits();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].state, Circuit::State::kClosed);
  EXPECT_EQ(listed[0].hops, identities({3, 2, 1}));
  EXPECT_EQ(listed[1].state, Circuit::State::kOpen);
  EXPECT_EQ(listed[1].hops, identities({2, 3, 4}));
  EXPECT_EQ(listed[1].streams_open, 1u);
  EXPECT_EQ(builds("failed"), 1u);
  EXPECT_EQ(builds("timeout"), 0u);
  EXPECT_EQ(builds("opened"), 1u);
  EXPECT_EQ(timed_builds(), 1u);  // only the circuit that opened has a build time

  // The failed one is forgotten at the next maintenance.
  manager->maintain();
  listed = manager->circuits();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state, Circuit::State::kOpen);
}

TEST_F(CircuitManagerTest, WithEveryPathDeadAcquireRebuildsAfterEachPauseAndFailsAtItsDeadline) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 0;
  // Five pauses of 200 ms after as many failed builds.
  options.acquire_timeout = 1000ms;
  start_manager(options, give_every_node_its_neighbours_onion_key);

  const Nanos deadline = manual_clock.now() + options.acquire_timeout;
  auto out = acquire();
  // Each build fails at once (in real time, simulated time standing still);
  // the next one goes out exactly one pause later, never sooner.
  for (std::uint64_t failed = 1; failed < 5; ++failed) {
    ASSERT_NO_FATAL_FAILURE(until_failed_builds(failed));
    EXPECT_EQ(node(0).tap->sent(mix::CellCommand::kCreate), failed);
    timers.advance(kRebuildPause - 1ns);
    EXPECT_EQ(node(0).tap->sent(mix::CellCommand::kCreate), failed);
    timers.advance(1ns);
    EXPECT_EQ(node(0).tap->sent(mix::CellCommand::kCreate), failed + 1);
  }
  ASSERT_NO_FATAL_FAILURE(until_failed_builds(5));
  // The fifth pause ends at the deadline: the acquire fails there.
  expect_times_out_at(out, deadline);
  EXPECT_EQ(builds("opened"), 0u);
  for (const ClientCircuitInfo& info : manager->circuits()) {
    EXPECT_NE(info.state, Circuit::State::kOpen);
  }
}

TEST_F(CircuitManagerTest, CloseAllEndsAnAcquireInItsRebuildPauseAtOnce) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 0;
  start_manager(options, give_every_node_its_neighbours_onion_key);
  auto out = acquire();
  ASSERT_NO_FATAL_FAILURE(until_failed_builds(1));
  manager->close_all();
  test::poll_ready(io);  // simulated time stands still: the pause has not ended
  ASSERT_TRUE(out->has_value());
  ASSERT_FALSE(out->value().has_value());
  EXPECT_EQ(out->value().error().category, ErrorCategory::kClosed);
}

TEST_F(CircuitManagerTest, WithEveryRelayStoppedAcquireFailsWithTimeoutAtItsDeadline) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 0;
  options.acquire_timeout = 300ms;
  start_manager(options);
  for (int i = 1; i <= kRelays; ++i) {
    node(i).stop();
  }

  const Nanos deadline = manual_clock.now() + options.acquire_timeout;
  auto out = acquire();
  // The CREATE goes unanswered: nothing happens until the deadline.
  ASSERT_FALSE(run_until([&] { return out->has_value(); }, 50ms));
  expect_times_out_at(out, deadline);
}

TEST_F(CircuitManagerTest, RetiredCircuitIsDestroyedAfterItsLastStreamAndItsStreamsSeeClosed) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 0;
  options.pool.max_streams = 1;
  start_manager(options);

  auto out = acquire();
  CircuitSession* session = acquired(out);
  ASSERT_NE(session, nullptr);
  auto stream = session->open_stream();
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  session->attach(*stream, recorder);
  auto listed = manager->circuits();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0].retired);
  ASSERT_EQ(manager->streams().size(), 1u);
  EXPECT_EQ(relayed_circuits(), 3u);

  // Still carrying its stream: kept.
  manager->maintain();
  ASSERT_EQ(manager->circuits().size(), 1u);
  EXPECT_TRUE(recorder.events.empty());

  manager->release(session);
  manager->maintain();
  EXPECT_TRUE(manager->circuits().empty());
  EXPECT_TRUE(manager->streams().empty());
  EXPECT_EQ(recorder.events, std::vector{stream::EventType::kClosed});
  // DESTROY went along the path.
  EXPECT_TRUE(run_until([&] { return relayed_circuits() == 0; }));
  // A late release for the gone session is ignored.
  manager->release(session);
  EXPECT_EQ(recorder.events.size(), 1u);
}

TEST_F(CircuitManagerTest, NewnymGivesNewStreamsANewCircuitWhileOldStreamsRunOn) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 1;
  start_manager(options);
  manager->maintain();
  CircuitSession* session = acquired(acquire());
  ASSERT_NE(session, nullptr);
  auto stream = session->open_stream();
  ASSERT_TRUE(stream.has_value()) << stream.error().message;
  session->attach(*stream, recorder);
  const std::uint64_t old_id = manager->circuits().at(0).id;

  EXPECT_EQ(manager->newnym(), 1u);
  CircuitSession* fresh = acquired(acquire());
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh, session);
  auto listed = manager->circuits();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, old_id);
  EXPECT_TRUE(listed[0].retired);
  EXPECT_EQ(listed[0].streams_open, 1u);
  EXPECT_FALSE(listed[1].retired);
  // The old circuit's stream was not cut.
  EXPECT_TRUE(recorder.events.empty());
  EXPECT_FALSE(session->is_closed());
}

TEST_F(CircuitManagerTest, CloseAllFailsWaitingAcquiresAndDestroysEveryCircuit) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 1;
  start_manager(options);
  manager->maintain();
  CircuitSession* session = acquired(acquire());
  ASSERT_NE(session, nullptr);
  auto stream = session->open_stream();
  ASSERT_TRUE(stream.has_value());
  session->attach(*stream, recorder);
  ASSERT_EQ(relayed_circuits(), 3u);

  // From now on no CREATE leaves node 0: an isolated acquire waits.
  node(0).tap->set_filter([](const mix::PeerKey&, mix::Cell& cell) {
    return cell[mix::kCircuitIdSize] != static_cast<std::uint8_t>(mix::CellCommand::kCreate);
  });
  auto waiting = acquire(IsolationKey{"u", "p"});
  ASSERT_TRUE(run_until([&] { return manager->circuits().size() == 2; }));
  EXPECT_FALSE(waiting->has_value());

  const auto destroys = node(0).tap->sent(mix::CellCommand::kDestroy);
  manager->close_all();
  EXPECT_TRUE(manager->circuits().empty());
  EXPECT_TRUE(manager->streams().empty());
  EXPECT_TRUE(recorder.saw(stream::EventType::kClosed));
  ASSERT_TRUE(run_until([&] { return waiting->has_value(); }));
  ASSERT_FALSE(waiting->value().has_value());
  EXPECT_EQ(waiting->value().error().category, ErrorCategory::kClosed);
  EXPECT_GT(node(0).tap->sent(mix::CellCommand::kDestroy), destroys);
  EXPECT_TRUE(run_until([&] { return relayed_circuits() == 0; }));

  auto late = acquire();
  io.poll();
  ASSERT_TRUE(late->has_value());
  ASSERT_FALSE(late->value().has_value());
  EXPECT_EQ(late->value().error().category, ErrorCategory::kClosed);
  EXPECT_FALSE(manager->build().has_value());
}

TEST_F(CircuitManagerTest, ListsCircuitsAndStreams) {
  CircuitManagerOptions options;
  options.pool.prebuilt = 2;
  start_manager(options);
  manager->maintain();
  auto listed = manager->circuits();
  ASSERT_EQ(listed.size(), 2u);
  for (std::size_t i = 0; i < listed.size(); ++i) {
    EXPECT_EQ(listed[i].id, i + 1);
    EXPECT_EQ(listed[i].state, Circuit::State::kBuilding);
    EXPECT_FALSE(listed[i].setup_time.has_value());
    EXPECT_EQ(listed[i].hops, identities({2, 3, 4}));
  }

  manual_clock.advance(5ms);
  ASSERT_TRUE(run_until([&] {
    auto now = manager->circuits();
    return std::all_of(now.begin(), now.end(),
                       [](const auto& info) { return info.state == Circuit::State::kOpen; });
  }));
  manual_clock.advance(1ms);
  listed = manager->circuits();
  ASSERT_EQ(listed.size(), 2u);
  for (const ClientCircuitInfo& info : listed) {
    EXPECT_EQ(info.setup_time, Nanos{5ms});
    EXPECT_EQ(info.age, Nanos{6ms});
  }
  EXPECT_TRUE(manager->streams().empty());

  CircuitSession* session = acquired(acquire());
  ASSERT_NE(session, nullptr);
  auto first = session->open_stream();
  auto second = session->open_stream();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  session->attach(*first, recorder);
  session->attach(*second, other_recorder);
  auto streams = manager->streams();
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].id, std::min(*first, *second));
  EXPECT_EQ(streams[1].id, std::max(*first, *second));
  EXPECT_EQ(streams[0].circuit, 1u);
  EXPECT_EQ(streams[1].circuit, 1u);

  auto built = manager->build();
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ(*built, 3u);
  EXPECT_EQ(manager->circuits().back().id, 3u);
  EXPECT_EQ(manager->close(42).error().category, ErrorCategory::kNotFound);
  ASSERT_TRUE(manager->close(1).has_value());
  EXPECT_EQ(manager->circuits()[0].state, Circuit::State::kClosed);
  // The closed circuit ends its session: both streams hear of it.
  EXPECT_TRUE(run_until([&] {
    return recorder.saw(stream::EventType::kClosed) &&
           other_recorder.saw(stream::EventType::kClosed);
  }));
  EXPECT_TRUE(session->is_closed());
}

}  // namespace
}  // namespace nyx::daemon
