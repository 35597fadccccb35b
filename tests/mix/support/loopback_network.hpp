#pragma once
// Mix nodes over real links for tests: each node is a Relay on its own
// transport LinkManager (Noise over UDP on 127.0.0.1), all on one
// io_context the test polls with a deadline. Between every Relay and its
// LinkManagerCellLink sits a TapCellLink, so a test can see, change, drop or
// inject the cells a node sends, as an attacker on that link would.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "mix/cell.hpp"
#include "mix/cell_link.hpp"
#include "mix/link_manager_cell_link.hpp"
#include "mix/relay.hpp"
#include "mix/support/test_nodes.hpp"
#include "transport/link_manager.hpp"

namespace nyx::mix::testing {

// A CellLink decorator: every cell a Relay sends passes `filter` (which may
// change it, or return false to drop it, as a lossy link would: the Relay is
// told it was sent) and then goes to the real link. Counts what it forwards.
class TapCellLink final : public CellLink {
 public:
  using Filter = std::function<bool(const PeerKey& to, Cell& cell)>;

  explicit TapCellLink(CellLink& inner) : inner_(inner) {}

  bool send_cell(const PeerKey& peer, Bytes cell) override;
  std::optional<asio::ip::address> peer_address(const PeerKey& peer) const override {
    return inner_.peer_address(peer);
  }
  void set_filter(Filter filter) { filter_ = std::move(filter); }
  // The real link, to inject cells the Relay never sent.
  CellLink& inner() noexcept { return inner_; }
  // Cells of `command` forwarded to the real link so far.
  std::uint64_t sent(CellCommand command) const noexcept {
    return sent_[static_cast<std::size_t>(command)];
  }

 private:
  static constexpr std::size_t kCommands = static_cast<std::size_t>(kLastCellCommand) + 1;

  CellLink& inner_;
  Filter filter_;
  std::array<std::uint64_t, kCommands> sent_{};
};

// How LoopbackTest::start() makes its nodes.
struct LoopbackOptions {
  // The relays' clock (timeouts, cover traffic); the links keep real time.
  const Clock* relay_clock = &SteadyClock::instance();
  std::function<RelayConfig(int index)> relay_config = [](int) { return RelayConfig{}; };
  // Where each node's links bind: another loopback address (127.0.0.2) makes
  // a node another neighbour group for CREATE admission.
  std::function<std::string(int index)> address = [](int) { return "127.0.0.1"; };
};

struct LoopbackNode {
  LoopbackNode(asio::io_context& io, int index, const LoopbackOptions& options);
  ~LoopbackNode();
  LoopbackNode(const LoopbackNode&) = delete;
  LoopbackNode& operator=(const LoopbackNode&) = delete;

  OnionHop hop() const { return {keys.descriptor.onion_key, keys.descriptor.link_key}; }
  // Drops the node's circuits and relay and stops its links; the io_context
  // must then run until idle before the node is destroyed.
  void stop();

  TestNode keys;
  CryptoRandomSource random;
  std::unique_ptr<transport::LinkManager> links;
  std::unique_ptr<LinkManagerCellLink> cell_link;
  std::unique_ptr<TapCellLink> tap;
  std::unique_ptr<Relay> relay;
  // Circuits that ended at this node, in arrival order.
  std::vector<std::unique_ptr<Circuit>> ends;
  bool stopped = false;
};

// Collects the datagrams a circuit end receives.
class Collect final : public DatagramReceiver {
 public:
  void on_datagram(Bytes d) override { got.emplace_back(d.begin(), d.end()); }
  std::vector<std::vector<std::uint8_t>> got;
};

class LoopbackTest : public ::testing::Test {
 protected:
  // `count` nodes that all know each other from one directory.
  void start(int count, const LoopbackOptions& options = {});
  void TearDown() override;
  // Polls the io_context until `done` or `limit` passed (false then).
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(20));
  // A circuit from node 0 through `path`, polled until it left kBuilding.
  std::unique_ptr<Circuit> build(const std::vector<int>& path);
  LoopbackNode& node(int index) { return *nodes[static_cast<std::size_t>(index)]; }

  // For LoopbackOptions::relay_clock: tests that move the relays' time.
  ManualClock manual_clock{std::chrono::seconds(1)};
  asio::io_context io;
  std::vector<std::unique_ptr<LoopbackNode>> nodes;
};

}  // namespace nyx::mix::testing
