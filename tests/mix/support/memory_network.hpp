#pragma once
// An in-memory network of mix nodes for tests: every node is a Relay with
// its own keys; cells between them wait in one in-flight list until run()
// delivers them in batches (every cell in flight, then a flush of every
// relay), as a transport batch would. A filter sees every cell on the way
// and may alter or drop it. Time is a ManualClock the test moves.

#include <cstddef>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "core/clock.hpp"
#include "mix/relay.hpp"
#include "mix/support/test_nodes.hpp"

namespace nyx::mix::testing {

class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t uniform(std::uint64_t bound) override {
    return std::uniform_int_distribution<std::uint64_t>(0, bound - 1)(engine_);
  }

 private:
  std::mt19937_64 engine_;
};

class MemoryNetwork {
 public:
  // Returns false to drop the cell; may change it.
  using Filter = std::function<bool(int from, int to, Cell& cell)>;

  explicit MemoryNetwork(int nodes, RelayConfig config = {});
  ~MemoryNetwork();

  Relay& relay(int node);
  OnionHop hop(int node) const;
  const document::NodeDescriptor& descriptor(int node) const;
  std::vector<OnionHop> hops(std::initializer_list<int> nodes) const;
  // Circuits that ended at `node`, in arrival order.
  std::vector<std::unique_ptr<Circuit>>& terminals(int node);
  ManualClock& clock() noexcept { return clock_; }
  void set_filter(Filter filter) { filter_ = std::move(filter); }
  // Cells delivered so far from `from` to `to`.
  std::size_t delivered(int from, int to) const;

  // Flushes every relay and delivers batches until nothing is in flight.
  void run();
  // tick() on every relay.
  void tick_all();

 private:
  struct Node;
  struct InFlight {
    int from;
    int to;
    Cell cell;
  };
  int index_of(const PeerKey& key) const;

  ManualClock clock_;
  SeededRandom random_{1234};
  std::vector<InFlight> in_flight_;
  std::vector<std::vector<std::size_t>> delivered_;
  Filter filter_;
  // Last, so nodes go first: their circuits send DESTROY into in_flight_.
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace nyx::mix::testing
