// Issue 13 against a real nyxd: a CREATE the attacker sent to the node (and
// kept) is sent again after the node restarted, cleanly or killed, over a
// fresh link; nyxd counts it as a replay on /metrics and answers no CREATED,
// while a fresh CREATE still opens a circuit.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <gtest/gtest.h>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/encoding.hpp"
#include "core/host_port.hpp"
#include "daemon/control/control_client.hpp"
#include "daemon/control/control_cookie.hpp"
#include "daemon/support/create_client.hpp"
#include "document/directory.hpp"
#include "integration/support/http_get.hpp"
#include "integration/support/nyxd_process.hpp"
#include "support/temp_dir.hpp"

namespace nyx::test {
namespace {

using namespace std::chrono_literals;

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
    document::Directory dir;  // lists no node: the relay uses onion key epoch 0
    dir.valid_after = unix_now() - 60;
    dir.valid_until = unix_now() + 3600;
    ASSERT_TRUE(dir.sign(authority_).has_value());
    auto bytes = dir.encode();
    ASSERT_TRUE(bytes.has_value());
    std::ofstream(tmp_.path() / "directory.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes->data()),
               static_cast<std::streamsize>(bytes->size()));
    std::ofstream(config())
        << "[node]\ndata_dir = \"data\"\nnickname = \"replay\"\nroles = [\"relay\", \"exit\"]\n"
        << "[directory]\nfile = \"directory.bin\"\nauthorities = [\""
        << crypto::to_hex(authority_.public_key) << "\"]\n"
        << "[transport]\nudp_listen = \"127.0.0.1:0\"\n"
        << "[relay]\nadvertise_udp = \"127.0.0.1:9340\"\n"
        << "[exit]\nadvertise = [\"accept *:80\"]\n"
        << "[mix]\nreplay_rate = 1.0\n"
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
    auto info = client->call("node.info");
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
  crypto::Ed25519KeyPair authority_ = crypto::Ed25519KeyPair::generate();
  std::unique_ptr<Process> node_;
  std::string metrics_;
  RelayAddress relay_;
};

TEST_F(NyxdReplay, ACreateReplayedAfterASigtermRestartIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start());
  const mix::Cell captured = capture();
  stop(SIGTERM);
  ASSERT_NO_FATAL_FAILURE(start());
  expect_replay_refused(captured);
  stop(SIGTERM);
}

TEST_F(NyxdReplay, ACreateReplayedAfterTheNodeWasKilledIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start());
  const mix::Cell captured = capture();
  stop(SIGKILL);
  ASSERT_NO_FATAL_FAILURE(start());
  expect_replay_refused(captured);
  stop(SIGTERM);
}

}  // namespace
}  // namespace nyx::test
