// A relay's CellShard serves directory streams (proposal 0002, section 4.5):
// two shards on their own threads, with real keys and Noise links over UDP
// on 127.0.0.1. The asking shard has no role, so it serves nothing; its
// DirectoryRequester runs on its thread over its directory_circuits(),
// exactly as the node's DirectoryClient does. The relay shard answers from
// the consensus the node handed it (hold_consensus, posted): NOT_FOUND
// before, the real signed consensus byte for byte after, NOT_MODIFIED to a
// client that holds its period, each counted in
// nyx_directory_requests_served_total; a CREATE_DIR to the role-less shard
// is closed.
#include <array>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <gtest/gtest.h>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/cell_shard.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/directory_client.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/node_config.hpp"
#include "document/node_address.hpp"
#include "document/support/voting_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

constexpr auto kAnswerWait = std::chrono::seconds(30);  // the requester's own limit is 30 s

// A shard of its own data directory; `roles` decides whether it serves.
struct RunningShard {
  // Without `fetches`, a node of the v1 directory's keys (no managed onion
  // keys): most of this test is about the directory streams alone. With it,
  // a node that fetches the consensus from those authorities, so a relay's
  // onion keys are managed.
  RunningShard(const std::filesystem::path& path, NodeRoles roles,
               const NodeConfig::Directory* fetches = nullptr) {
    auto data_dir = DataDir::open(path);
    EXPECT_TRUE(data_dir) << data_dir.error().to_string();
    dir.emplace(std::move(*data_dir));
    config.node.roles = roles;
    if (fetches != nullptr) {
      config.directory = *fetches;
      config.relay.advertise_udp = HostPort{"127.0.0.1", 9};
    } else {
      config.directory.file = "directory.bin";
    }
    config.transport.udp_listen = HostPort{"127.0.0.1", 0};
    auto created = CellShard::create(config, *dir, SteadyClock::instance(), SystemClock::instance(),
                                     async::SteadyTimers::instance(), registry, nullptr);
    EXPECT_TRUE(created) << created.error().to_string();
    shard = std::move(*created);
    shard->start();
  }

  // Once; a second call finds the thread joined.
  void shut_down() {
    if (stopped) {
      return;
    }
    stopped = true;
    std::promise<void> done;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    shard->shut_down(deadline, [&done] { done.set_value(); });
    EXPECT_EQ(done.get_future().wait_until(deadline), std::future_status::ready);
    shard->join(deadline);
  }

  // Where a CREATE_DIR to this shard goes.
  document::DirectorySource source() const {
    document::DirectorySource s;
    s.kind = document::DirectorySource::Kind::kAuthority;
    s.link_key = shard->link_key();
    auto udp = document::NodeAddress::from_text(shard->udp_local());
    EXPECT_TRUE(udp) << shard->udp_local();
    if (udp) {
      s.udp_address = *udp;
    }
    return s;
  }

  std::uint64_t served(const char* status) {
    return registry
        .counter("nyx_directory_requests_served_total", "",
                 {{"type", "get_consensus"}, {"status", status}})
        .value();
  }

  NodeConfig config;
  std::optional<DataDir> dir;
  metrics::Registry registry;
  std::unique_ptr<CellShard> shard;
  bool stopped = false;
};

class CellShardDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    relay_.emplace(temp_.path() / "relay", NodeRoles{.relay = true});
    asker_.emplace(temp_.path() / "asker", NodeRoles{});
    // Made on the asking shard's thread, where it runs.
    std::promise<void> made;
    asker_->shard->post([this, &made] {
      requester_ = std::make_unique<DirectoryRequester>(
          asker_->shard->executor(), SteadyClock::instance(), async::SteadyTimers::instance(),
          asker_->shard->directory_circuits());
      made.set_value();
    });
    made.get_future().wait();
  }

  void TearDown() override {
    if (asker_) {
      asker_->shut_down();
    }
    relay_->shut_down();
    requester_.reset();  // both threads joined: nothing of it runs any more
    asker_.reset();
    relay_.reset();
  }

  // One GET_CONSENSUS from the asking shard to `to`, run on the asking
  // shard's thread; its outcome, or a failure when none came in time.
  Result<document::DirectoryReply> get_consensus(const RunningShard& to,
                                                 std::uint64_t have_period) {
    auto outcome = std::make_shared<std::promise<Result<document::DirectoryReply>>>();
    auto answer = outcome->get_future();
    asker_->shard->post([this, source = to.source(), have_period, outcome] {
      asio::co_spawn(
          asker_->shard->executor(),
          [this, source, have_period, outcome]() -> asio::awaitable<void> {
            const document::DirectoryRequest request =
                document::GetConsensusRequest{.have_period = have_period};
            auto reply = co_await requester_->request(source, request);
            outcome->set_value(std::move(reply));
          },
          [](std::exception_ptr e) { EXPECT_FALSE(e); });
    });
    if (answer.wait_for(kAnswerWait) != std::future_status::ready) {
      return make_error(ErrorCategory::kTimeout, "no outcome in time");
    }
    return answer.get();
  }

  test::TempDir temp_;
  std::optional<RunningShard> relay_;
  std::optional<RunningShard> asker_;
  std::unique_ptr<DirectoryRequester> requester_;
};

TEST_F(CellShardDirectoryTest, ARelayServesTheConsensusItWasHanded) {
  auto before = get_consensus(*relay_, 0);
  ASSERT_TRUE(before) << before.error().to_string();
  EXPECT_TRUE(std::holds_alternative<document::NotFoundReply>(*before));

  std::vector<document::RelayEntry> entries;
  for (int n = 1; n <= 3; ++n) {
    entries.push_back(test::relay_entry(n, static_cast<std::uint32_t>(n * 10)));
  }
  const auto consensus = test::encoded(test::signed_consensus(entries, {1, 2}));
  relay_->shard->hold_consensus(test::kQ,
                                std::make_shared<const std::vector<std::uint8_t>>(consensus));

  auto held = get_consensus(*relay_, test::kQ - 1);
  ASSERT_TRUE(held) << held.error().to_string();
  const auto* ok = std::get_if<document::ConsensusReply>(&*held);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->consensus, consensus);

  auto same = get_consensus(*relay_, test::kQ);
  ASSERT_TRUE(same) << same.error().to_string();
  EXPECT_TRUE(std::holds_alternative<document::NotModifiedReply>(*same));

  // Read after the relay's thread is joined, so every count it made is seen.
  relay_->shut_down();
  EXPECT_EQ(relay_->served("not_found"), 1u);
  EXPECT_EQ(relay_->served("ok"), 1u);
  EXPECT_EQ(relay_->served("not_modified"), 1u);
}

TEST_F(CellShardDirectoryTest, AShardWithoutTheRelayOrAuthorityRoleServesNothing) {
  // The relay asks the role-less shard, which answers its CREATE_DIR with DESTROY.
  std::promise<Result<document::DirectoryReply>> outcome;
  auto answer = outcome.get_future();
  std::unique_ptr<DirectoryRequester> from_relay;
  relay_->shard->post([this, &outcome, &from_relay, source = asker_->source()] {
    from_relay = std::make_unique<DirectoryRequester>(
        relay_->shard->executor(), SteadyClock::instance(), async::SteadyTimers::instance(),
        relay_->shard->directory_circuits());
    asio::co_spawn(
        relay_->shard->executor(),
        [&outcome, &from_relay, source]() -> asio::awaitable<void> {
          const document::DirectoryRequest request = document::GetConsensusRequest{};
          auto reply = co_await from_relay->request(source, request);
          outcome.set_value(std::move(reply));
        },
        [](std::exception_ptr e) { EXPECT_FALSE(e); });
  });
  ASSERT_EQ(answer.wait_for(kAnswerWait), std::future_status::ready);
  auto reply = answer.get();
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().category, ErrorCategory::kClosed);
  asker_->shut_down();
  relay_->shut_down();
  from_relay.reset();
}

// An authority that takes datagrams and never answers (no bootstrap
// reachable), and the directory section of a node that fetches from it.
struct SilentAuthority {
  SilentAuthority() {
    directory.authorities = {key.public_key};
    directory.authority_entries = {
        {.key = key.public_key,
         .link = link.public_key,
         .address = HostPort{"127.0.0.1", socket.local_endpoint().port()},
         .tcp_address = std::nullopt}};
    directory.threshold = 1;
  }
  // Blocks until the first datagram (a handshake) arrives: a request is out.
  void wait_for_request() {
    std::array<std::uint8_t, 2048> datagram{};
    asio::ip::udp::endpoint from;
    socket.receive_from(asio::buffer(datagram), from);
  }

  asio::io_context io;
  asio::ip::udp::socket socket{io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  crypto::Ed25519KeyPair key = crypto::Ed25519KeyPair::generate();
  crypto::X25519KeyPair link = crypto::X25519KeyPair::generate();
  NodeConfig::Directory directory;
};

// The node's DirectoryClient on `node`'s thread, made, loaded and started
// there as the node does; null when it could not be made.
std::unique_ptr<DirectoryClient> start_client(RunningShard& node) {
  std::unique_ptr<DirectoryClient> client;
  std::promise<void> started;
  node.shard->post([&] {
    auto created =
        DirectoryClient::create(node.config, *node.dir, *node.shard, SystemClock::instance(),
                                async::SteadyTimers::instance(), node.registry);
    EXPECT_TRUE(created) << created.error().to_string();
    if (created) {
      client = std::move(*created);
      client->load();
      client->start();
    }
    started.set_value();
  });
  started.get_future().wait();
  return client;
}

// The node's shutdown: the client stopped on the shard's thread, then the
// drain, then the join. How long it took, which must be far less than the
// deadline: the client's coroutines end with its stop, so the shard's loop
// runs dry by itself and the join never has to stop it (which would leave
// their frames to the io_context's destructor, after the relay is gone).
std::chrono::steady_clock::duration shut_down_as_the_node_does(RunningShard& node,
                                                               DirectoryClient& client) {
  const auto begun = std::chrono::steady_clock::now();
  const auto deadline = begun + std::chrono::seconds(20);
  node.shard->post([c = &client] { c->stop(); });
  std::promise<void> drained;
  node.shard->shut_down(deadline, [&drained] { drained.set_value(); });
  EXPECT_EQ(drained.get_future().wait_until(deadline), std::future_status::ready);
  node.stopped = true;
  node.shard->join(deadline);
  return std::chrono::steady_clock::now() - begun;
}

TEST_F(CellShardDirectoryTest, AClientsFetchInFlightToASilentAuthorityEndsWithTheDrain) {
  SilentAuthority authority;
  asker_->shut_down();
  requester_.reset();  // made on that shard, replaced here by a node that fetches
  asker_.emplace(temp_.path() / "client", NodeRoles{}, &authority.directory);
  auto client = start_client(*asker_);
  ASSERT_NE(client, nullptr);
  authority.wait_for_request();
  EXPECT_LT(shut_down_as_the_node_does(*asker_, *client), std::chrono::seconds(5));
  // The shard's loop has ended: the client goes before the shard's
  // io_context, whose timer service its gates use, as in the node.
  client.reset();
  asker_.reset();
}

TEST_F(CellShardDirectoryTest, AFetchingRelayPublishesManagedKeysAndStopsItsUploads) {
  SilentAuthority authority;
  asker_->shut_down();
  requester_.reset();  // made on that shard, replaced here by a node that fetches
  asker_.emplace(temp_.path() / "fetching-relay", NodeRoles{.relay = true}, &authority.directory);
  auto client = start_client(*asker_);
  ASSERT_NE(client, nullptr);
  std::promise<std::optional<OnionKeyManager::PublishedKeys>> keys;
  asker_->shard->post([&] { keys.set_value(asker_->shard->published_onion_keys()); });
  const auto published = keys.get_future().get();
  // The OnionKeyManager's keys for the descriptor of the next upload target
  // (a new relay is in no consensus of the current period), not the v1 key
  // of epoch 0.
  ASSERT_TRUE(published.has_value());
  const std::uint64_t now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(SystemClock::instance().now()).count());
  EXPECT_TRUE(published->epoch == now / 3600 + 1 || published->epoch == now / 3600 + 2)
      << published->epoch;
  EXPECT_NE(published->onion_key, published->next_onion_key);
  authority.wait_for_request();  // the fetch or the upload
  EXPECT_LT(shut_down_as_the_node_does(*asker_, *client), std::chrono::seconds(5));
  // The shard's loop has ended: the client goes before the shard's
  // io_context, whose timer service its gates use, as in the node.
  client.reset();
  asker_.reset();
}

}  // namespace
}  // namespace nyx::daemon
