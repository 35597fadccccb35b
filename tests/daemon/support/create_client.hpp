#pragma once
// The attacker of the replay tests: a client that reaches one relay over a
// real link (Noise over UDP on loopback) with a fresh link identity, sends it
// raw cells, such as a CREATE built by mix::build_create whose bytes it
// keeps, and collects every cell the relay sends back. Header-only, shared by
// tests/daemon and tests/integration. Not thread-safe: runs on the test's
// thread, on its own io_context.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include "async/timer_service.hpp"
#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/crypto/x25519.hpp"
#include "mix/cell.hpp"
#include "mix/onion_create.hpp"
#include "transport/link_manager.hpp"

namespace nyx::test {

inline constexpr std::chrono::seconds kAnswerTimeout{20};  // loopback answers take milliseconds

// Where a relay listens and which keys a client needs to build a CREATE for it.
struct RelayAddress {
  asio::ip::udp::endpoint udp;
  transport::PeerKey link_key{};
  crypto::X25519PublicKey onion_key{};
};

// The attacker's end: a fresh link identity, a link to one relay, and every
// cell that relay sends back.
class Client {
 public:
  // `from`: the loopback address the link comes from (127.0.0.0/8 is all
  // local), so that a test can be two hosts in the relay's eyes.
  explicit Client(const RelayAddress& relay, const char* from = "127.0.0.1")
      : relay_(relay.link_key) {
    transport::LinkConfig config;
    config.udp_listen = {asio::ip::make_address(from), 0};
    auto links = transport::LinkManager::create(io_, SteadyClock::instance(),
                                                async::SteadyTimers::instance(),
                                                crypto::X25519KeyPair::generate(), config);
    if (!links) {
      ADD_FAILURE() << links.error().to_string();
      return;
    }
    links_ = std::move(*links);
    links_->set_cell_handler([this](std::span<const transport::ReceivedCell> cells) {
      for (const auto& received : cells) {
        mix::Cell cell;
        std::copy(received.cell.begin(), received.cell.end(), cell.begin());
        got_.push_back(cell);
      }
    });
    transport::PeerEndpoints endpoints;
    endpoints.udp = relay.udp;
    links_->add_peer(relay_, endpoints);
  }
  ~Client() {
    if (links_) {
      links_->stop();
    }
  }

  void send(const mix::Cell& cell) {
    ASSERT_TRUE(links_);
    links_->send(relay_, cell);
    links_->flush();
  }

  // Runs the link until `done` holds; false when it did not within the timeout.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // The command of the first cell the relay sent on circuit `id`.
  std::optional<mix::CellCommand> answer(mix::CircuitId id) const {
    for (const auto& cell : got_) {
      if (load_be32(cell.data()) == id) {
        return static_cast<mix::CellCommand>(cell[mix::kCircuitIdSize]);
      }
    }
    return std::nullopt;
  }
  // How many circuits the relay answered with `command` (their first cell).
  std::size_t answered(mix::CellCommand command) const {
    std::set<mix::CircuitId> ids;
    for (const auto& cell : got_) {
      const mix::CircuitId id = load_be32(cell.data());
      if (answer(id) == command) {
        ids.insert(id);
      }
    }
    return ids.size();
  }
  std::size_t answers(mix::CircuitId id) const {
    return static_cast<std::size_t>(
        std::count_if(got_.begin(), got_.end(),
                      [id](const mix::Cell& cell) { return load_be32(cell.data()) == id; }));
  }

 private:
  asio::io_context io_;
  transport::PeerKey relay_;
  std::unique_ptr<transport::LinkManager> links_;
  std::vector<mix::Cell> got_;
};

// A CREATE cell for a circuit that ends at `relay`, as a client builds it.
inline mix::Cell one_hop_create(mix::CircuitId id, const RelayAddress& relay) {
  const std::array<mix::OnionHop, 1> hops{mix::OnionHop{relay.onion_key, relay.link_key}};
  auto create = mix::build_create(hops);
  EXPECT_TRUE(create.has_value());
  mix::Cell cell{};
  mix::write_cell_header(cell, id, mix::CellCommand::kCreate);
  std::copy(create->payload.begin(), create->payload.end(), mix::cell_payload(cell).begin());
  return cell;
}

}  // namespace nyx::test
