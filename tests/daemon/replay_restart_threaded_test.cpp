// Issue 13: a CREATE captured on the wire and replayed to a relay after the
// relay restarted is refused. The relay is a real CellShard (relay and exit
// roles, UDP on 127.0.0.1) over a data directory in a temp dir; the attacker
// is a client with a LinkManager of its own that builds a one-hop CREATE,
// keeps its bytes, and sends them again to the restarted relay over a fresh
// Noise link. Restarts: a clean shutdown (the shard destroyed and a new one
// made on the same directory), and a relay process killed with SIGKILL (a
// forked child), whose tags file is trusted because the kernel outlived it.
// Built into nyx_daemon_threaded_tests: the shard runs its own thread.

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <utility>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/host_port.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/cell_shard.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/key_store.hpp"
#include "daemon/node_config.hpp"
#include "daemon/replay_store_file.hpp"
#include "daemon/support/create_client.hpp"
#include "document/directory.hpp"
#include "mix/cell.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using test::Client;
using test::one_hop_create;
using test::RelayAddress;

using namespace std::chrono_literals;

constexpr auto kAnswerTimeout = test::kAnswerTimeout;

NodeConfig relay_config() {
  NodeConfig config;
  config.node.roles = NodeRoles{.relay = true, .exit = true};  // the exit takes one-hop circuits
  // A node of the v1 directory (the file is the node's to read, not the
  // shard's): one onion key, of epoch 0, not the managed keys of a relay
  // that fetches the consensus.
  config.directory.file = "directory.bin";
  config.transport.udp_listen = HostPort{"127.0.0.1", 0};
  config.mix.replay_rate = 1;  // C = 4210 tags: a small file
  return config;
}

std::uint64_t creates(metrics::Registry& registry, const char* result) {
  return registry
      .counter("nyx_relay_creates_total", "CREATE cells, by result", {{"result", result}})
      .value();
}

// A relay node's data plane, running on its own thread until destroyed: the
// node's clean shutdown (drain, then the shard and its stores destroyed).
class RunningRelay {
 public:
  RunningRelay(const NodeConfig& config, const DataDir& dir) {
    auto shard = CellShard::create(config, dir, SteadyClock::instance(), SystemClock::instance(),
                                   async::SteadyTimers::instance(), registry, nullptr);
    if (!shard) {
      ADD_FAILURE() << shard.error().to_string();
      return;
    }
    shard_ = std::move(*shard);
    shard_->start();
  }
  ~RunningRelay() {
    if (!shard_) {
      return;
    }
    std::promise<void> done;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    shard_->shut_down(deadline, [&done] { done.set_value(); });
    EXPECT_EQ(done.get_future().wait_until(deadline), std::future_status::ready);
    shard_->join(deadline);
  }
  RunningRelay(const RunningRelay&) = delete;
  RunningRelay& operator=(const RunningRelay&) = delete;

  bool running() const { return shard_ != nullptr; }
  RelayAddress address() const {
    auto udp = parse_host_port(shard_->udp_local());
    EXPECT_TRUE(udp.has_value());
    return {asio::ip::udp::endpoint(asio::ip::make_address(udp->host), udp->port),
            shard_->link_key(), shard_->onion_key().first};
  }
  CellShard& shard() { return *shard_; }

  metrics::Registry registry;  // before the shard, which publishes into it

 private:
  std::unique_ptr<CellShard> shard_;
};

constexpr mix::CircuitId kCaptured = 0x10;
constexpr mix::CircuitId kFresh = 0x20;

class ReplayAfterRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto data_dir = DataDir::open(dir_.path() / "data");
    ASSERT_TRUE(data_dir) << data_dir.error().to_string();
    data_dir_.emplace(std::move(*data_dir));
  }

  std::filesystem::path tags_file(std::uint64_t epoch) const {
    return data_dir_->path() / ReplayStoreFile::file_name(epoch);
  }

  // The attacker's replay of `captured` and a fresh CREATE, each on a fresh
  // link, to a relay started on the data directory after the restart.
  void expect_replay_refused_and_fresh_accepted(const mix::Cell& captured) {
    RunningRelay relay(config_, *data_dir_);
    ASSERT_TRUE(relay.running());
    Client attacker(relay.address());
    attacker.send(captured);  // the same bytes, the same circuit id
    ASSERT_TRUE(attacker.run_until([&] {
      return attacker.answer(kCaptured).has_value() &&
             creates(relay.registry, "replay") + creates(relay.registry, "accepted") == 1;
    })) << "no answer to the replayed CREATE";
    EXPECT_EQ(creates(relay.registry, "replay"), 1u);
    EXPECT_EQ(attacker.answer(kCaptured), mix::CellCommand::kDestroy);
    EXPECT_EQ(attacker.answers(kCaptured), 1u);  // no CREATED for it, ever
    EXPECT_EQ(creates(relay.registry, "accepted"), 0u);

    Client honest(relay.address());
    honest.send(one_hop_create(kFresh, relay.address()));
    ASSERT_TRUE(honest.run_until([&] {
      return honest.answer(kFresh).has_value() && creates(relay.registry, "accepted") >= 1;
    }));
    EXPECT_EQ(honest.answer(kFresh), mix::CellCommand::kCreated);
    EXPECT_EQ(creates(relay.registry, "accepted"), 1u);
    EXPECT_EQ(creates(relay.registry, "replay"), 1u);
    EXPECT_EQ(creates(relay.registry, "refused_closed"), 0u);  // the key still takes fresh ones
  }

  // A relay whose key's store came back closed takes no fresh CREATE: it
  // answers REFUSED (inside a CREATED, proposal 0002 section 8.5) and keeps
  // no circuit.
  void expect_fresh_create_refused() {
    RunningRelay relay(config_, *data_dir_);
    ASSERT_TRUE(relay.running());
    Client client(relay.address());
    client.send(one_hop_create(kFresh, relay.address()));
    ASSERT_TRUE(client.run_until([&] {
      return client.answer(kFresh).has_value() &&
             creates(relay.registry, "refused_closed") + creates(relay.registry, "accepted") == 1;
    }));
    EXPECT_EQ(creates(relay.registry, "refused_closed"), 1u);
    EXPECT_EQ(creates(relay.registry, "accepted"), 0u);
  }

  test::TempDir dir_;
  std::optional<DataDir> data_dir_;
  NodeConfig config_ = relay_config();
};

TEST_F(ReplayAfterRestart, AnUntrustedTagsFileClosesTheKey) {
  // Not a file the store can trust (it refuses to follow a symbolic link).
  std::filesystem::create_symlink("/dev/null", tags_file(0));
  expect_fresh_create_refused();
}

TEST_F(ReplayAfterRestart, AStoreThatCannotBeCreatedClosesTheKeyRatherThanUseMemory) {
  // ReplayStoreFile makes a new file under "<name>.tmp" and renames it into
  // place; a non-empty directory there makes the creation fail.
  std::filesystem::path blocker = tags_file(0);
  blocker += ".tmp";
  std::filesystem::create_directories(blocker / "in-the-way");
  expect_fresh_create_refused();
  EXPECT_FALSE(std::filesystem::exists(tags_file(0)));
}

TEST_F(ReplayAfterRestart, ACleanShutdownKeepsTheTagsAndTheReplayIsRefused) {
  mix::Cell captured;
  {
    RunningRelay relay(config_, *data_dir_);
    ASSERT_TRUE(relay.running());
    captured = one_hop_create(kCaptured, relay.address());
    Client client(relay.address());
    client.send(captured);
    ASSERT_TRUE(client.run_until([&] {
      return client.answer(kCaptured).has_value() && creates(relay.registry, "accepted") == 1;
    }));
    ASSERT_EQ(client.answer(kCaptured), mix::CellCommand::kCreated);

    // Before the restart the replay is caught too (the baseline).
    Client again(relay.address());
    again.send(captured);
    ASSERT_TRUE(again.run_until([&] { return creates(relay.registry, "replay") == 1; }));
  }
  // The tags file the key's store lives in: the owner's alone.
  struct stat st {};
  EXPECT_EQ(::stat(tags_file(0).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  expect_replay_refused_and_fresh_accepted(captured);
}

TEST_F(ReplayAfterRestart, ARelayKilledMidRunKeepsTheTagsAndTheReplayIsRefused) {
  // The child runs the relay and tells the parent its port; the keys are in
  // the shared data directory.
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    metrics::Registry registry;
    auto shard =
        CellShard::create(config_, *data_dir_, SteadyClock::instance(), SystemClock::instance(),
                          async::SteadyTimers::instance(), registry, nullptr);
    if (!shard) {
      ::_exit(1);
    }
    (*shard)->start();
    auto udp = parse_host_port((*shard)->udp_local());
    const std::uint16_t port = udp ? udp->port : 0;
    if (::write(pipe_fds[1], &port, sizeof port) != sizeof port) {
      ::_exit(1);
    }
    for (;;) {
      ::pause();  // until the parent's SIGKILL: no destructor, no clean mark
    }
  }
  ::close(pipe_fds[1]);
  std::uint16_t port = 0;
  const bool told = ::read(pipe_fds[0], &port, sizeof port) == sizeof port;
  ::close(pipe_fds[0]);
  const auto kill_child = [child] {
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  };
  if (!told || port == 0) {
    kill_child();
    FAIL() << "the relay process did not start";
  }
  KeyStore keys(*data_dir_);
  auto link = keys.link();
  auto onion = keys.onion(0);
  ASSERT_TRUE(link && onion);
  const RelayAddress address{asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                             link->public_key, onion->public_key};

  const mix::Cell captured = one_hop_create(kCaptured, address);
  {
    Client client(address);
    client.send(captured);
    const bool answered = client.run_until([&] { return client.answer(kCaptured).has_value(); });
    if (!answered) {
      kill_child();
      FAIL() << "the relay process did not answer";
    }
    // CREATED went out after the tag was in the mapping: from here a crash
    // of the process must not lose it.
    EXPECT_EQ(client.answer(kCaptured), mix::CellCommand::kCreated);
  }
  ASSERT_TRUE(kill_child());

  expect_replay_refused_and_fresh_accepted(captured);
}

TEST_F(ReplayAfterRestart, AnErasedKeysTagsFileIsRemoved) {
  RunningRelay relay(config_, *data_dir_);
  ASSERT_TRUE(relay.running());
  ASSERT_TRUE(std::filesystem::exists(tags_file(0)));

  // A directory naming epoch 5 for this node: epoch 0 is out of the trial
  // order's reach, so its key and its tags go.
  auto directory = std::make_shared<document::Directory>();
  document::NodeDescriptor self;
  self.identity_key = relay.shard().identity();
  self.link_key = relay.shard().link_key();
  self.onion_key_epoch = 5;
  self.roles = document::kRoleRelay;
  directory->nodes.push_back(self);
  relay.shard().use_directory(directory);
  // The install runs on the shard's thread; a task posted after it runs
  // once the rotation and the file's removal are done.
  std::promise<void> installed;
  relay.shard().post([&installed] { installed.set_value(); });
  ASSERT_EQ(installed.get_future().wait_for(kAnswerTimeout), std::future_status::ready);
  ASSERT_EQ(relay.shard().onion_key().second, 5u);
  EXPECT_FALSE(std::filesystem::exists(tags_file(0)));
  EXPECT_TRUE(std::filesystem::exists(tags_file(5)));
}

}  // namespace
}  // namespace nyx::daemon
