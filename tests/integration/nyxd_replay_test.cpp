// Issue 13 against a real nyxd relay's CREATE defences. A CREATE the
// attacker sent to the node (and kept) is sent again after the node
// restarted, cleanly or killed, over a fresh link; nyxd counts it as a replay
// on /metrics and answers no CREATED, while a fresh CREATE still opens a
// circuit. And a flood of CREATEs from one host is held to its address's
// bucket while another host opens every circuit it asks for. The relay is
// configured for a voted network (its onion keys rotate per epoch, its
// replay tags are kept per key, proposal 0002 section 8), so the CREATEs use
// the key of the epoch now and a restart happens within that epoch.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <gtest/gtest.h>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/x25519.hpp"
#include "core/host_port.hpp"
#include "daemon/control/control_client.hpp"
#include "daemon/control/control_cookie.hpp"
#include "daemon/support/create_client.hpp"
#include "integration/support/http_get.hpp"
#include "integration/support/network_fixture.hpp"
#include "integration/support/nyxd_process.hpp"
#include "support/temp_dir.hpp"

namespace nyx::test {
namespace {

using namespace std::chrono_literals;

// The relay's onion epoch, the shortest period nyxd takes.
constexpr std::uint64_t kPeriodSeconds = 24;
constexpr auto kPeriod = std::chrono::seconds(kPeriodSeconds);
// The capture, a restart (a drain of up to 2 s) and the replay fit in the
// rest of an epoch begun at most this long ago.
constexpr std::uint64_t kLatestPhase = 10;

constexpr mix::CircuitId kCaptured = 0x10;
constexpr mix::CircuitId kFresh = 0x20;

std::uint64_t unix_now() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

class NyxdReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0700), 0);
    // One authority that never answers (nothing listens on its port): the
    // relay fetches no consensus and uploads nowhere, but its onion keys
    // rotate per epoch on its own clock, as on any network.
    const std::uint16_t authority_port = ports_.next();
    ASSERT_NE(authority_port, 0);
    std::ofstream(config())
        << "[node]\ndata_dir = \"data\"\nnickname = \"replay\"\nroles = [\"relay\", \"exit\"]\n"
        << "[directory]\nauthorities = [\n  { key = \""
        << crypto::to_hex(crypto::Ed25519KeyPair::generate().public_key) << "\", link = \""
        << crypto::to_hex(crypto::X25519KeyPair::generate().public_key)
        << "\", address = \"127.0.0.1:" << authority_port << "\", tcp_address = \"\" },\n]\n"
        << "period = \"" << kPeriodSeconds << "s\"\nclock_skew = \"1s\"\n"
        << "[transport]\nudp_listen = \"127.0.0.1:0\"\n"
        << "[relay]\nadvertise_udp = \"127.0.0.1:9340\"\n"
        << "[exit]\nadvertise = [\"accept *:80\"]\n"
        // A node-wide CREATE bucket the flood test's 400 CREATEs would
        // empty but for the flooder's own group's bucket (90, 3/s).
        << "[mix]\nreplay_rate = 1.0\ncreate_burst_max = 150\ncreate_rate_max = 10.0\n"
        << "[metrics]\nlisten = \"127.0.0.1:0\"\n"
        << "[shutdown]\ndrain_deadline = \"2s\"\n";
  }

  std::filesystem::path data() const { return tmp_.path() / "data"; }
  std::filesystem::path config() const { return tmp_.path() / "nyxd.toml"; }

  // Starts nyxd, waits for its control socket, and reads where it listens
  // and its keys from node.info.
  void start() {
    node_ = std::make_unique<Process>(NYXD_PATH, std::vector<std::string>{"--config", config()},
                                      tmp_.path() / "nyxd.log");
    ASSERT_TRUE(node_->started());
    auto client = wait_for_control(*node_, data() / "control.sock");
    ASSERT_TRUE(client) << client.error();
    auto cookie = control::ControlCookie::load(data() / "control.cookie");
    ASSERT_TRUE(cookie.has_value());
    ASSERT_TRUE(client->authenticate(*cookie).has_value());
    control_ = std::move(*client);
    ASSERT_NO_FATAL_FAILURE(read_info());
  }

  void read_info() {
    auto info = control_->call("node.info");
    ASSERT_TRUE(info.has_value()) << info.error().message;
    metrics_ = (*info)["metrics_listen"].get<std::string>();
    auto udp = parse_host_port((*info)["udp_listen"].get<std::string>());
    ASSERT_TRUE(udp.has_value());
    relay_.udp = asio::ip::udp::endpoint(asio::ip::make_address(udp->host), udp->port);
    auto link = crypto::from_hex((*info)["link_key"].get<std::string>());
    auto onion = crypto::from_hex((*info)["onion_key"].get<std::string>());
    ASSERT_TRUE(link && link->size() == relay_.link_key.size());
    ASSERT_TRUE(onion && onion->size() == relay_.onion_key.size());
    std::copy(link->begin(), link->end(), relay_.link_key.begin());
    std::copy(onion->begin(), onion->end(), relay_.onion_key.begin());
    epoch_ = (*info)["onion_key_epoch"].get<std::uint64_t>();
  }

  // After the first start: waits until the relay holds the key of the epoch
  // now (it makes keys for the epochs ahead, so the epoch it started in has
  // none) with the epoch's first kLatestPhase seconds not yet over, so that
  // the capture, the restart and the replay all meet that one key.
  void wait_for_a_fresh_epoch_key() {
    const auto deadline = std::chrono::steady_clock::now() + 4 * kPeriod;
    for (;;) {
      const std::uint64_t now = unix_now();
      ASSERT_NO_FATAL_FAILURE(read_info());
      if (epoch_ == now / kPeriodSeconds && relay_.onion_key != crypto::X25519PublicKey{} &&
          now % kPeriodSeconds <= kLatestPhase) {
        return;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "no onion key for the epoch now (epoch " << epoch_ << "):\n"
          << node_->output();
      std::this_thread::sleep_for(200ms);
    }
  }

  // The restarted relay loaded the same key of the same epoch from its data
  // directory, and with it the replay tags it recorded.
  void restart_within_the_epoch() {
    const std::uint64_t epoch = epoch_;
    const crypto::X25519PublicKey key = relay_.onion_key;
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_EQ(epoch_, epoch) << "the restart crossed an epoch boundary";
    ASSERT_EQ(relay_.onion_key, key);
  }

  // nyx_relay_creates_total{result=...} on the node's /metrics; -1 if absent.
  long long creates(const std::string& result) {
    const std::string reply = http_get(metrics_, "/metrics");
    const std::string series = "\nnyx_relay_creates_total{result=\"" + result + "\"} ";
    const auto at = reply.find(series);
    return at == std::string::npos ? -1 : std::stoll(reply.substr(at + series.size()));
  }

  // Polls /metrics until `result` reaches `count` (the relay publishes on
  // its 50 ms tick).
  bool creates_reach(const std::string& result, long long count) {
    const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
    while (creates(result) < count) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }

  // The attacker's CREATE, accepted by the running node; its bytes are kept.
  mix::Cell capture() {
    const mix::Cell captured = one_hop_create(kCaptured, relay_);
    Client client(relay_);
    client.send(captured);
    EXPECT_TRUE(client.run_until([&] { return client.answer(kCaptured).has_value(); }));
    EXPECT_EQ(client.answer(kCaptured), mix::CellCommand::kCreated);
    return captured;
  }

  // After the restart: the same bytes are refused as a replay, a fresh
  // CREATE opens.
  void expect_replay_refused(const mix::Cell& captured) {
    Client attacker(relay_);
    attacker.send(captured);
    ASSERT_TRUE(attacker.run_until([&] { return attacker.answer(kCaptured).has_value(); }))
        << node_->output();
    EXPECT_EQ(attacker.answer(kCaptured), mix::CellCommand::kDestroy);
    EXPECT_TRUE(creates_reach("replay", 1)) << "replay count: " << creates("replay");
    EXPECT_EQ(creates("accepted"), 0);

    Client honest(relay_);
    honest.send(one_hop_create(kFresh, relay_));
    ASSERT_TRUE(honest.run_until([&] { return honest.answer(kFresh).has_value(); }));
    EXPECT_EQ(honest.answer(kFresh), mix::CellCommand::kCreated);
    EXPECT_TRUE(creates_reach("accepted", 1));
    EXPECT_EQ(creates("replay"), 1);
    EXPECT_EQ(attacker.answers(kCaptured), 1u);  // still no CREATED for the replay
  }

  void stop(int sig) {
    control_.reset();
    node_->signal(sig);
    const auto code = node_->wait(10s);
    ASSERT_TRUE(code.has_value()) << "nyxd did not exit:\n" << node_->output();
    if (sig == SIGKILL) {
      EXPECT_EQ(*code, -SIGKILL);
    } else {
      EXPECT_EQ(*code, 0) << node_->output();
    }
  }

  TempDir tmp_;
  LoopbackPorts ports_;
  std::unique_ptr<Process> node_;
  std::optional<control::ControlClient> control_;
  std::uint64_t epoch_ = 0;
  std::string metrics_;
  RelayAddress relay_;
};

TEST_F(NyxdReplay, ACreateReplayedAfterASigtermRestartIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(wait_for_a_fresh_epoch_key());
  const mix::Cell captured = capture();
  stop(SIGTERM);
  ASSERT_NO_FATAL_FAILURE(restart_within_the_epoch());
  expect_replay_refused(captured);
  stop(SIGTERM);
}

TEST_F(NyxdReplay, ACreateReplayedAfterTheNodeWasKilledIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(wait_for_a_fresh_epoch_key());
  const mix::Cell captured = capture();
  stop(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(restart_within_the_epoch());
  expect_replay_refused(captured);
  stop(SIGTERM);
}

// Proposal 0002, section 9, against a running relay: one host floods it with
// valid one-hop CREATEs, each on a fresh circuit id. Its address group is
// held to the burst (90) and then the rate (3/s), each refusal a DESTROY
// before any Diffie-Hellman, so the flood takes only 90 of the node-wide
// bucket's 150 (configured small here, so that a flood not held by its
// group would empty it): a client on another address then opens every
// circuit it asks for.
TEST_F(NyxdReplay, AFloodOfCreatesFromOneHostLeavesOtherHostsTheirCircuits) {
  constexpr mix::CircuitId kFlood = 0x1000;
  constexpr std::size_t kFloodSize = 400;
  constexpr mix::CircuitId kHonest = 0x8000;
  constexpr std::size_t kHonestSize = 20;
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(wait_for_a_fresh_epoch_key());

  // In volleys of 50, each answered before the next goes, so that no
  // socket buffer on a loaded machine drops part of the flood.
  Client flooder(relay_, "127.0.0.2");
  const auto flood_answered = [&] {
    return flooder.answered(mix::CellCommand::kCreated) +
           flooder.answered(mix::CellCommand::kDestroy);
  };
  for (std::size_t sent = 0; sent < kFloodSize;) {
    for (const std::size_t volley_end = sent + 50; sent < volley_end; ++sent) {
      flooder.send(one_hop_create(kFlood + static_cast<mix::CircuitId>(sent), relay_));
    }
    ASSERT_TRUE(flooder.run_until([&] { return flood_answered() == sent; }))
        << "the flood was answered up to " << flood_answered() << " of " << sent;
  }
  Client honest(relay_);
  for (std::size_t i = 0; i < kHonestSize; ++i) {
    honest.send(one_hop_create(kHonest + static_cast<mix::CircuitId>(i), relay_));
  }
  ASSERT_TRUE(honest.run_until([&] {
    return honest.answered(mix::CellCommand::kCreated) == kHonestSize;
  })) << "honest circuits opened: "
      << honest.answered(mix::CellCommand::kCreated) << " of " << kHonestSize
      << ", refused: " << honest.answered(mix::CellCommand::kDestroy);

  // The burst, and what the rate refilled while the flood was answered.
  const std::size_t flood_opened = flooder.answered(mix::CellCommand::kCreated);
  EXPECT_GE(flood_opened, 90u);
  EXPECT_LE(flood_opened, 90u + 30u);
  EXPECT_TRUE(creates_reach("rate_limited", static_cast<long long>(kFloodSize - flood_opened)));
  EXPECT_LE(creates("overloaded"), 0);  // absent (-1) or 0
}

}  // namespace
}  // namespace nyx::test
