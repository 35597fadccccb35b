#include "daemon/circuit_manager.hpp"

#include <algorithm>
#include <utility>

#include <asio/this_coro.hpp>
#include <fmt/format.h>

#include "async/timer.hpp"
#include "async/with_deadline.hpp"
#include "core/host_port.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"

namespace nyx::daemon {
namespace {

// After a build failed, a waiting acquire pauses this long before the next
// one: a stale directory (wrong onion keys) answers every CREATE at once, and
// must not turn one acquire into thousands of CREATEs.
constexpr auto kRebuildPause = std::chrono::milliseconds(200);

// A session reads from a circuit the pool owns: this forwards to it without
// taking ownership (the retire handler destroys the session first).
class BorrowedCircuit final : public DatagramChannel {
 public:
  explicit BorrowedCircuit(mix::Circuit& circuit) : circuit_(circuit) {}
  std::size_t max_datagram_size() const noexcept override { return circuit_.max_datagram_size(); }
  SendOutcome send(Bytes datagram) override { return circuit_.send(datagram); }
  void set_receiver(DatagramReceiver* receiver) noexcept override {
    circuit_.set_receiver(receiver);
  }

 private:
  mix::Circuit& circuit_;
};

// "host:port" ("[v6]:port") as the directory's advertised exit rules read it.
std::string destination_text(const Socks5Destination& destination) {
  return HostPort{destination.host, destination.port}.to_string();
}

}  // namespace

struct CircuitManager::BuildMetrics {
  explicit BuildMetrics(metrics::Registry& r)
      : opened(r.counter("nyx_circuit_builds_total", "Client circuit builds, by result",
                         {{"result", "opened"}})),
        failed(r.counter("nyx_circuit_builds_total", "Client circuit builds, by result",
                         {{"result", "failed"}})),
        timeout(r.counter("nyx_circuit_builds_total", "Client circuit builds, by result",
                          {{"result", "timeout"}})),
        // 5 ms to 10 s: a loopback testnet to a slow path just inside the
        // relays' 10 s setup timeout.
        duration(r.histogram("nyx_circuit_build_duration_seconds",
                             "Seconds from CREATE to CREATED of the circuits that opened",
                             metrics::exponential_buckets(0.005, 2, 12))) {}
  metrics::Counter& opened;
  metrics::Counter& failed;
  metrics::Counter& timeout;
  metrics::BucketHistogram& duration;
};

struct CircuitManager::Pool {
  Pool(mix::Relay& relay, mix::PathSelector& paths, const Clock& clock,
       mix::CircuitPoolConfig config, bool isolated_key)
      : circuits(relay, paths, clock, config), isolated(isolated_key) {}
  mix::CircuitPool circuits;
  bool isolated;
};

CircuitManager::CircuitManager(asio::io_context& io, const Clock& clock,
                               async::TimerService& timers, mix::Relay& relay,
                               mix::RandomSource& random, CircuitManagerOptions options)
    : io_(io),
      clock_(clock),
      timers_(timers),
      relay_(relay),
      paths_(random),
      options_(std::move(options)),
      changed_(io.get_executor()) {}

CircuitManager::~CircuitManager() { close_all(); }

void CircuitManager::publish_metrics(metrics::Registry& registry) {
  metrics_ = std::make_unique<BuildMetrics>(registry);
}

void CircuitManager::set_nodes(std::vector<document::NodeDescriptor> nodes) {
  nodes_ = std::move(nodes);
  for (auto& [key, pool] : pools_) {
    pool->circuits.set_nodes(nodes_);
  }
}

CircuitManager::Pool& CircuitManager::pool_for(const IsolationKey& isolation) {
  auto it = pools_.find(isolation);
  if (it == pools_.end()) {
    const bool isolated = isolation != IsolationKey{};
    auto config = options_.pool;
    if (isolated) {
      config.prebuilt = 0;  // built when a stream asks, not ahead
    }
    auto pool = std::make_unique<Pool>(relay_, paths_, clock_, config, isolated);
    pool->circuits.set_nodes(nodes_);
    pool->circuits.set_retire_handler([this](mix::Circuit& circuit) { on_retire(circuit); });
    it = pools_.emplace(isolation, std::move(pool)).first;
  }
  return *it->second;
}

void CircuitManager::maintain() {
  if (closed_ || nodes_.empty()) {
    return;
  }
  pool_for(IsolationKey{});  // the default pool always exists: it prebuilds
  for (auto it = pools_.begin(); it != pools_.end();) {
    Pool& pool = *it->second;
    if (auto status = pool.circuits.maintain(); !status) {
      log::debug("circuits: cannot build ahead: {}", status.error().message);
    }
    adopt(pool);
    if (pool.isolated && pool.circuits.size() == 0) {
      it = pools_.erase(it);
    } else {
      ++it;
    }
  }
  notify();
}

void CircuitManager::adopt(Pool& pool) {
  for (const mix::PooledCircuit& pooled : pool.circuits.circuits()) {
    mix::Circuit& circuit = *pooled.circuit;
    auto [it, fresh] = attached_.try_emplace(&circuit);
    if (!fresh) {
      continue;
    }
    it->second.id = next_id_++;
    it->second.isolated = pool.isolated;
    circuit.set_cover_rate(options_.cover_rate);
    // The pool outlives its circuits' handlers: on_retire() clears them,
    // and an isolated pool goes only once it holds no circuit.
    circuit.set_state_handler(
        [this, &circuit, &circuits = pool.circuits, born = pooled.born](mix::Circuit::State state) {
          if (state == mix::Circuit::State::kOpen) {
            if (auto found = attached_.find(&circuit); found != attached_.end()) {
              found->second.setup_time = clock_.now() - born;
              circuits.record_build_time(*found->second.setup_time);
              if (metrics_) {
                metrics_->opened.inc();
                metrics_->duration.observe(
                    std::chrono::duration<double>(*found->second.setup_time).count());
              }
            }
          } else if (state == mix::Circuit::State::kClosed) {
            if (auto found = attached_.find(&circuit); found != attached_.end()) {
              if (!found->second.setup_time) {
                ++failed_builds_;
                if (metrics_) {
                  (circuit.close_reason() == mix::DestroyReason::kTimeout ? metrics_->timeout
                                                                          : metrics_->failed)
                      .inc();
                }
              }
              if (found->second.session) {
                found->second.session->channel_closed();
              }
            }
          }
          notify();
        });
  }
}

CircuitSession& CircuitManager::session_for(mix::Circuit& circuit) {
  Attached& attached = attached_[&circuit];
  if (!attached.session) {
    // The circuit's setup was a round trip over this very path: the session
    // starts from it, so a circuit that died since it opened is taken for
    // gone in tens of its round trips, not in tens of a generic guess's.
    stream::SessionConfig config = options_.session;
    if (attached.setup_time) {
      config.initial_rtt = *attached.setup_time;
    }
    attached.session = std::make_unique<CircuitSession>(io_.get_executor(), clock_, timers_,
                                                        std::make_unique<BorrowedCircuit>(circuit),
                                                        stream::Role::kInitiator, config);
    CircuitSession* session = attached.session.get();
    by_session_[session] = &circuit;
    // An ended session (idle, or CLOSE from the exit) makes its circuit
    // useless: close it, so the pool retires it. Deferred, because the
    // session is still running its dispatch here; dropped with the session.
    attached.close_circuit =
        std::make_unique<async::DeferredCallback>(io_.get_executor(), [&circuit] {
          if (circuit.state() != mix::Circuit::State::kClosed) {
            circuit.close();
          }
        });
    session->set_closed_handler([closer = attached.close_circuit.get()] { closer->schedule(); });
  }
  return *attached.session;
}

void CircuitManager::on_retire(mix::Circuit& circuit) {
  circuit.set_state_handler(nullptr);
  auto it = attached_.find(&circuit);
  if (it == attached_.end()) {
    return;
  }
  if (it->second.session) {
    by_session_.erase(it->second.session.get());
  }
  // The session's streams see kClosed on its way out.
  attached_.erase(it);
}

void CircuitManager::notify() {
  // Wakes the acquirers waiting now; later ones wait for the next change.
  changed_.set();
  changed_.reset();
}

asio::awaitable<Result<CircuitSession*>> CircuitManager::acquire(
    const IsolationKey& isolation, const Socks5Destination& destination) {
  const std::string target = destination_text(destination);
  const bool any_exit = std::any_of(nodes_.begin(), nodes_.end(), [&](const auto& node) {
    return node.is_exit() && node.exit_rules.allows(target);
  });
  if (!any_exit) {
    co_return make_error(ErrorCategory::kPermission, "no exit in the directory allows it");
  }
  const Nanos deadline = clock_.now() + options_.acquire_timeout;
  while (true) {
    if (closed_) {
      co_return make_error(ErrorCategory::kClosed, "the node is shutting down");
    }
    // The SOCKS server gave up on this client (its own deadline).
    if ((co_await asio::this_coro::cancellation_state).cancelled() !=
        asio::cancellation_type::none) {
      co_return make_error(ErrorCategory::kTimeout, "abandoned while waiting for a circuit");
    }
    // Looked up again after every wait: an idle isolated pool may be gone.
    Pool& pool = pool_for(isolation);
    auto circuit = pool.circuits.acquire(target);
    adopt(pool);
    if (!circuit) {
      co_return make_error(circuit.error().category == ErrorCategory::kNotFound
                               ? ErrorCategory::kPermission
                               : circuit.error().category,
                           circuit.error().message);
    }
    if (*circuit != nullptr) {
      CircuitSession& session = session_for(**circuit);
      if (!session.is_closed()) {
        co_return &session;
      }
      // Its session ended: the circuit closes and is retired; try another.
      pool.circuits.release(*circuit);
      (*circuit)->close();
      continue;
    }
    if (clock_.now() >= deadline) {
      co_return make_error(ErrorCategory::kTimeout, "no circuit could be built in time");
    }
    // Until a circuit opens or closes, the next maintain(), or the deadline.
    const std::uint64_t failures = failed_builds_;
    (void)co_await async::with_deadline(changed_.wait(), deadline - clock_.now(), timers_);
    // After a failed build, a pause before the next try; close_all() (which
    // leaves changed_ set) ends it at once, other changes do not.
    const Nanos pause_end = std::min(deadline, clock_.now() + kRebuildPause);
    while (failed_builds_ != failures && !closed_ && clock_.now() < pause_end) {
      (void)co_await async::with_deadline(changed_.wait(), pause_end - clock_.now(), timers_);
    }
  }
}

void CircuitManager::release(const CircuitSession* session) {
  auto it = by_session_.find(session);
  if (it == by_session_.end()) {
    return;  // its circuit was retired meanwhile
  }
  for (auto& [key, pool] : pools_) {
    pool->circuits.release(it->second);
  }
}

void CircuitManager::close_all() {
  if (closed_) {
    return;
  }
  closed_ = true;
  for (auto& [circuit, attached] : attached_) {
    if (attached.session) {
      attached.session->set_closed_handler(nullptr);
      attached.session->close();
    }
  }
  // Destroying the pools destroys their circuits (DESTROY goes out); the
  // sessions go first, as on retirement.
  attached_.clear();
  by_session_.clear();
  for (auto& [key, pool] : pools_) {
    for (const mix::PooledCircuit& pooled : pool->circuits.circuits()) {
      pooled.circuit->set_state_handler(nullptr);
    }
  }
  pools_.clear();
  changed_.set();  // every acquire, waiting or to come, sees closed_
}

Result<std::uint64_t> CircuitManager::build() {
  if (closed_) {
    return make_error(ErrorCategory::kClosed, "the node is shutting down");
  }
  Pool& pool = pool_for(IsolationKey{});
  if (auto built = pool.circuits.build(); !built) {
    return std::unexpected(std::move(built.error()));
  }
  adopt(pool);
  return attached_.at(pool.circuits.circuits().back().circuit.get()).id;
}

Status CircuitManager::close(std::uint64_t id) {
  for (auto& [circuit, attached] : attached_) {
    if (attached.id == id) {
      circuit->close();
      return {};
    }
  }
  return make_error(ErrorCategory::kNotFound, fmt::format("no client circuit {}", id));
}

std::size_t CircuitManager::newnym() {
  std::size_t retired = 0;
  for (auto& [key, pool] : pools_) {
    retired += pool->circuits.retire_all();
  }
  maintain();
  return retired;
}

std::vector<ClientCircuitInfo> CircuitManager::circuits() const {
  std::vector<ClientCircuitInfo> out;
  const Nanos now = clock_.now();
  for (const auto& [key, pool] : pools_) {
    for (const mix::PooledCircuit& pooled : pool->circuits.circuits()) {
      ClientCircuitInfo info{.state = pooled.circuit->state(),
                             .age = now - pooled.born,
                             .streams_open = pooled.streams_open,
                             .streams_total = pooled.streams_total,
                             .retired = pooled.retired,
                             .isolated = pool->isolated,
                             .setup_time = std::nullopt,
                             .hops = pooled.hops};
      if (auto it = attached_.find(pooled.circuit.get()); it != attached_.end()) {
        info.id = it->second.id;
        info.setup_time = it->second.setup_time;
      }
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::size_t CircuitManager::stream_count() const {
  std::size_t count = 0;
  for (const auto& [circuit, attached] : attached_) {
    if (attached.session) {
      attached.session->for_each_stream(
          [&count](stream::StreamId, const StreamHandler&) { ++count; });
    }
  }
  return count;
}

std::vector<ClientStreamInfo> CircuitManager::streams() const {
  std::vector<ClientStreamInfo> out;
  for (const auto& [circuit, attached] : attached_) {
    if (!attached.session) {
      continue;
    }
    attached.session->for_each_stream([&](stream::StreamId id, const StreamHandler& handler) {
      out.push_back({.id = id, .circuit = attached.id, .traffic = handler.traffic()});
    });
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::pair(a.circuit, a.id) < std::pair(b.circuit, b.id);
  });
  return out;
}

}  // namespace nyx::daemon
