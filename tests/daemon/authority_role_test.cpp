// AuthorityRole (proposal 0002 sections 5, 5.7 and 11.1): a node's
// authority assembled from its configuration, as nyxd gives it (TOML text,
// a real authority.key written 0600). It refuses to start without a
// readable key or with a damaged period file, naming the file; while it
// lives its service answers the authority requests the held consensus
// service hands on, and once destroyed the held service refuses them
// itself. Started in simulated time, it votes (no relays: an empty vote),
// stores the period and reports it in authority.status; stopped, it ends
// the pushes to authorities whose circuits never open.
#include "daemon/authority_role.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <asio/io_context.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include "async/manual_timers.hpp"
#include "async/spawn.hpp"
#include "core/clock.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/key_file.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/support/parse_config.hpp"
#include "daemon/support/scripted_prober.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "document/support/authority_timeline.hpp"
#include "document/support/voting_fixtures.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using namespace test::authority_timeline;
using document::DirectoryRequestType;

// After consensus q − 1's T, before q's sweep: q's uploads come in.
constexpr std::uint64_t kStart = kT - 20;

// Every CREATE_DIR circuit fails at once, as to authorities that are down.
class UnreachableCircuits final : public DirectoryCircuitSource {
 public:
  asio::awaitable<Result<DirectoryCircuit>> open(const document::DirectorySource&) override {
    ++opened;
    co_return make_error(ErrorCategory::kIo, "no handshake");
  }

  int opened = 0;
};

// The configuration of authority 1 of three, in `data_dir`.
std::string authority_toml(const std::filesystem::path& data_dir, std::string_view key_file) {
  std::string entries;
  for (int n = 1; n <= 3; ++n) {
    entries += fmt::format(R"({{ key = "{}", link = "{}", address = "127.0.0.{}:9340" }}, )",
                           crypto::to_hex(test::authority_key(n).public_key),
                           crypto::to_hex(authority_link(n)), n);
  }
  return fmt::format(
      "[node]\ndata_dir = \"{}\"\nroles = [\"authority\"]\n"
      "[directory]\nauthorities = [{}]\nperiod = \"{}s\"\nclock_skew = \"1s\"\n"
      "[authority]\nkey_file = \"{}\"\nallow_private_addresses = true\n",
      data_dir.string(), entries, kP, key_file);
}

class AuthorityRoleTest : public ::testing::Test {
 protected:
  AuthorityRoleTest() {
    EXPECT_FALSE(dir_.path().empty());
    EXPECT_TRUE(crypto::write_key_file(key_path(), test::authority_key(1).seed()));
  }

  std::filesystem::path key_path() const { return dir_.path() / "authority.key"; }

  AuthorityRoleParts parts() {
    return AuthorityRoleParts{.executor = io_.get_executor(),
                              .wall = clock_,
                              .timers = timers_,
                              .registry = registry_,
                              .circuits = circuits_,
                              .held = held_,
                              .prober = prober_,
                              .session = {}};
  }

  Result<std::unique_ptr<AuthorityRole>> create(std::string_view key_file = "authority.key") {
    auto config = test::parse_config_text(authority_toml(dir_.path(), key_file));
    EXPECT_TRUE(config.has_value()) << config.error().message;
    auto data_dir = DataDir::open(dir_.path());
    EXPECT_TRUE(data_dir.has_value()) << data_dir.error().message;
    return AuthorityRole::create(*config, *data_dir, parts());
  }

  // How the held service screens a request of `type` from `link`.
  std::optional<document::DirectoryReply> screen(DirectoryRequestType type,
                                                 const crypto::X25519PublicKey& link) {
    return held_.screen(type, DirectoryRequestContext{.link_peer = link});
  }

  test::TempDir dir_;
  asio::io_context io_;
  ManualClock clock_{std::chrono::seconds(kStart)};
  async::ManualTimers timers_{io_, clock_};
  metrics::Registry registry_;
  UnreachableCircuits circuits_;
  HeldConsensusService held_;
  ScriptedProber prober_{timers_};
};

TEST_F(AuthorityRoleTest, AMissingOrOpenKeyFileRefusesTheStartNamingIt) {
  auto missing = create("missing.key");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("authority.key_file"), std::string::npos);
  EXPECT_NE(missing.error().message.find((dir_.path() / "missing.key").string()), std::string::npos)
      << missing.error().message;

  ASSERT_EQ(::chmod(key_path().c_str(), 0644), 0);
  auto readable = create();
  ASSERT_FALSE(readable.has_value());
  EXPECT_NE(readable.error().message.find(key_path().string()), std::string::npos)
      << readable.error().message;
}

TEST_F(AuthorityRoleTest, ADamagedPeriodFileRefusesTheStartNamingIt) {
  const std::filesystem::path state = dir_.path() / "authority";
  ASSERT_EQ(::mkdir(state.c_str(), 0700), 0);
  const std::filesystem::path damaged = state / fmt::format("period-{}.bin", kQ);
  std::ofstream(damaged, std::ios::binary) << "not a snapshot";
  auto role = create();
  ASSERT_FALSE(role.has_value());
  EXPECT_NE(role.error().message.find(damaged.string()), std::string::npos) << role.error().message;
}

TEST_F(AuthorityRoleTest, TheServiceIsAttachedWhileTheRoleLives) {
  HeldConsensusService never_attached;
  const auto alone = never_attached.screen(DirectoryRequestType::kPostVote,
                                           DirectoryRequestContext{.link_peer = stranger_link()});
  ASSERT_TRUE(alone.has_value());

  auto role = create();
  ASSERT_TRUE(role.has_value()) << role.error().message;
  EXPECT_EQ((*role)->authority_key(), test::authority_key(1).public_key);

  // The authority service screens: a stranger is refused by it, in its
  // words; another authority's vote is read.
  const auto refused = screen(DirectoryRequestType::kPostVote, stranger_link());
  ASSERT_TRUE(refused.has_value());
  const auto* reply = std::get_if<document::RefusedReply>(&*refused);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->reason, document::RefusalReason::kNotAuthority);
  EXPECT_NE(*refused, *alone);
  EXPECT_FALSE(screen(DirectoryRequestType::kPostVote, authority_link(2)).has_value());

  role->reset();
  EXPECT_EQ(screen(DirectoryRequestType::kPostVote, stranger_link()), alone);
  EXPECT_EQ(screen(DirectoryRequestType::kPostVote, authority_link(2)), alone);
}

TEST_F(AuthorityRoleTest, ItVotesStoresTheVoteReportsItAndStops) {
  auto created = create();
  ASSERT_TRUE(created.has_value()) << created.error().message;
  AuthorityRole& role = **created;
  const std::string own = crypto::to_hex(role.authority_key());

  const nlohmann::json before = role.status(kStart);
  EXPECT_EQ(before["phase"], "uploads");
  EXPECT_EQ(before["period"], kQ);
  EXPECT_EQ(before["descriptors"], 0);
  EXPECT_TRUE(before["votes"].empty());
  EXPECT_FALSE(before.contains("reachable"));
  EXPECT_FALSE(before.contains("last_published"));

  role.start();
  test::run_for(io_, timers_, std::chrono::seconds(kVoteAt + 1 - kStart));
  EXPECT_TRUE(
      std::filesystem::exists(dir_.path() / "authority" / fmt::format("period-{}.bin", kQ)));
  const nlohmann::json voting = role.status(kVoteAt + 1);
  EXPECT_EQ(voting["phase"], "votes");
  EXPECT_EQ(voting["period"], kQ);
  EXPECT_EQ(voting["votes"], nlohmann::json::array({own}));
  EXPECT_EQ(voting["reachable"], 0);
  EXPECT_GT(circuits_.opened, 0);  // the vote's pushes to the two others

  // Alone, it has too few votes for a consensus.
  test::run_for(io_, timers_, std::chrono::seconds(kPublishAt - kVoteAt));
  const nlohmann::json after = role.status(kPublishAt + 1);
  EXPECT_EQ(after["phase"], "published");
  EXPECT_TRUE(after["signatures"].empty());
  EXPECT_EQ(after["consensus"]["period"], kQ);
  EXPECT_EQ(after["consensus"]["result"], "too_few_votes");
  EXPECT_FALSE(after.contains("last_published"));

  role.stop();
  bool stopped = false;
  async::spawn(
      io_.get_executor(),
      [](AuthorityRole& r, bool& done) -> asio::awaitable<void> {
        co_await r.wait_stopped();
        done = true;
      }(role, stopped),
      "test: wait_stopped");
  EXPECT_TRUE(test::run_until(io_, timers_, [&] { return stopped; }));
}

}  // namespace
}  // namespace nyx::daemon
