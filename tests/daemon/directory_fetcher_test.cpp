// DirectoryFetcher in simulated time (ManualClock set to a date, ManualTimers):
// the tracker, the requester and the real DirectoryServer with a
// HeldConsensusService, joined by in-memory channels (the circuit seam is
// the only stand-in: each open() is a MemoryChannel pair whose far end the
// server accepts, as Relay::set_directory_handler would hand it a circuit).
// Checked: bootstrap installs and writes consensus.bin, the next fetch
// happens at the tracker's time and not before, a failure backs off, the
// metrics count each result, and a restart installs from the files alone.
// A hostile cache (ScriptedCache) serves real signed consensuses that break
// one rule of section 6.3 each: nothing it serves is used or written, and
// the next attempt waits for the back-off. A consensus valid soon is held
// pending and installed at its valid_after on the injected clock.
#include "daemon/directory_fetcher.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "core/crypto/encoding.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/directory_server.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/support/memory_channel.hpp"
#include "document/consensus_tracker.hpp"
#include "document/support/voting_fixtures.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using namespace std::chrono_literals;
using document::DirectorySource;
using test::kQ;
using test::kValidAfter;

constexpr std::uint64_t kP = test::kPeriodSeconds;
constexpr std::uint64_t kNow = kValidAfter + 100;  // consensus kQ is in force

class AlwaysLowest final : public document::FetchRandom {
 public:
  std::uint64_t uniform(std::uint64_t) override { return 0; }
};

// Every "circuit" reaches the one server over a MemoryChannel pair.
class MemoryCircuits final : public DirectoryCircuitSource {
 public:
  MemoryCircuits(asio::io_context& io, DirectoryServer& server) : io_(io), server_(server) {}
  asio::awaitable<Result<DirectoryCircuit>> open(const DirectorySource& source) override {
    asked.push_back(source);
    auto [ours, theirs] = MemoryChannel::pair(io_);
    server_.accept(std::move(theirs));
    co_return DirectoryCircuit{.channel = std::move(ours), .set_closed_handler = {}};
  }
  std::vector<DirectorySource> asked;

 private:
  asio::io_context& io_;
  DirectoryServer& server_;
};

// Consensus q of three relays, signed by `signers` of the three authorities
// this node trusts (a majority, 2, is needed), for a network of period P.
std::vector<std::uint8_t> consensus_bytes(std::uint64_t q = kQ,
                                          const std::vector<int>& signers = {1, 2},
                                          std::uint32_t period_seconds = test::kPeriodSeconds) {
  std::vector<document::RelayEntry> entries;
  for (int n = 1; n <= 3; ++n) {
    entries.push_back(*document::RelayEntry::from_descriptor(static_cast<std::uint32_t>(n * 10),
                                                             test::relay_descriptor(n, q)));
  }
  return test::encoded(test::signed_consensus(entries, signers, q, period_seconds));
}

SharedDocument shared(std::vector<std::uint8_t> bytes) {
  return std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
}

// A cache that serves the consensus it holds, or, once `forced` is set,
// those bytes to every GET_CONSENSUS whatever the client holds: a hostile
// or broken cache.
class ScriptedCache final : public DirectoryService {
 public:
  asio::awaitable<DirectoryAnswer> answer(const document::DirectoryRequest& request,
                                          const DirectoryRequestContext& context) override {
    if (std::holds_alternative<document::GetConsensusRequest>(request)) {
      if (forced_reply) {
        co_return DirectoryAnswer(*forced_reply);
      }
      if (forced) {
        co_return DirectoryAnswer(forced);
      }
    }
    DirectoryAnswer held_answer = co_await held.answer(request, context);
    co_return held_answer;
  }
  HeldConsensusService held;
  SharedDocument forced;
  std::optional<document::DirectoryReply> forced_reply;
};

document::ConsensusTracker::Config tracker_config() {
  auto trust = document::ConsensusTrust::make(
      {test::authority_key(1).public_key, test::authority_key(2).public_key,
       test::authority_key(3).public_key},
      0, *document::Period::from_seconds(kP), 300);
  EXPECT_TRUE(trust) << trust.error().to_string();
  DirectorySource fallback;
  fallback.kind = DirectorySource::Kind::kFallback;
  fallback.link_key[0] = 0xF0;
  fallback.udp_address = *document::NodeAddress::from_text("203.0.113.1:9340");
  DirectorySource authority = fallback;
  authority.kind = DirectorySource::Kind::kAuthority;
  authority.link_key[0] = 0xA0;
  return {.trust = *trust,
          .role = document::DirectoryRole::kCache,
          .authorities = {authority},
          .fallbacks = {fallback},
          .own_link_key = std::nullopt};
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One node's directory client, on the fixture's io_context and clock.
struct Client {
  Client(asio::io_context& io, ManualClock& clock, async::ManualTimers& timers,
         DirectoryCircuitSource& circuits, const std::filesystem::path& dir)
      : tracker(tracker_config(), random),
        requester(io.get_executor(), clock, timers, circuits),
        fetcher(io.get_executor(), clock, timers, tracker, requester,
                *document::Period::from_seconds(kP), dir) {
    fetcher.publish_metrics(registry);
    fetcher.set_install_handler([this](std::shared_ptr<const document::Consensus> consensus) {
      installed.push_back(consensus->period);
    });
  }
  AlwaysLowest random;  // before the tracker, which keeps a reference
  document::ConsensusTracker tracker;
  DirectoryRequester requester;
  metrics::Registry registry;
  DirectoryFetcher fetcher;
  std::vector<std::uint64_t> installed;
};

class DirectoryFetcherTest : public ::testing::Test {
 protected:
  DirectoryFetcherTest() { clock_.set(std::chrono::seconds(kNow)); }
  ~DirectoryFetcherTest() override {
    for (auto& client : clients_) {
      client->fetcher.stop();
    }
    test::poll_ready(io_);
    clients_.clear();
    server_.stop();
    test::poll_ready(io_);
  }

  Client& client() {
    clients_.push_back(std::make_unique<Client>(io_, clock_, timers_, circuits_, dir_.path()));
    return *clients_.back();
  }

  std::uint64_t now() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now()).count());
  }
  bool counted_refusal(const Client& node, std::string_view reason) const {
    return node.registry.prometheus_text().find(fmt::format(
               "nyx_directory_refused_total{{reason=\"{}\"}} 1", reason)) != std::string::npos;
  }

  asio::io_context io_;
  ManualClock clock_;
  async::ManualTimers timers_{io_, clock_};
  test::TempDir dir_;
  ScriptedCache service_;
  DirectoryServer server_{io_, clock_, timers_, service_};
  MemoryCircuits circuits_{io_, server_};
  std::vector<std::unique_ptr<Client>> clients_;
};

TEST_F(DirectoryFetcherTest, BootstrapInstallsAndWritesTheFile) {
  const auto bytes = consensus_bytes();
  service_.held.hold(kQ, std::make_shared<const std::vector<std::uint8_t>>(bytes));
  Client& node = client();
  node.fetcher.load();
  node.fetcher.start();
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().installed == 1; }, 10s));
  EXPECT_EQ(node.installed, std::vector<std::uint64_t>{kQ});
  EXPECT_EQ(read_file(node.fetcher.current_file()), bytes);
  EXPECT_FALSE(std::filesystem::exists(node.fetcher.next_file()));
  EXPECT_NE(
      node.registry.prometheus_text().find("nyx_directory_fetches_total{result=\"installed\"} 1"),
      std::string::npos)
      << node.registry.prometheus_text();
  // Section 4.2: the client closed its circuit, so the server's session went.
  EXPECT_TRUE(test::run_until(
      io_, timers_, [&] { return server_.session_count() == 0; }, 1s));
}

TEST_F(DirectoryFetcherTest, TheNextFetchHappensAtTheTrackersTimeAndNotBefore) {
  service_.held.hold(kQ, std::make_shared<const std::vector<std::uint8_t>>(consensus_bytes()));
  Client& node = client();
  node.fetcher.load();
  node.fetcher.start();
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().installed == 1; }, 10s));
  const std::uint64_t next = node.tracker.next_fetch_at();
  ASSERT_GT(next, kNow);
  const std::uint64_t now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now()).count());
  test::run_for(io_, timers_, std::chrono::seconds(next - now) - 1ms);
  EXPECT_EQ(circuits_.asked.size(), 1u);
  test::run_for(io_, timers_, 2ms);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().not_modified == 1; }, 1s));
  EXPECT_EQ(circuits_.asked.size(), 2u);
  // A cache asks the authorities (section 6.2), with have_period = kQ.
  EXPECT_EQ(circuits_.asked[1].kind, DirectorySource::Kind::kAuthority);
}

TEST_F(DirectoryFetcherTest, AServerWithNothingIsAFailureAndTheNextTryBacksOff) {
  Client& node = client();  // the server holds no consensus: NOT_FOUND
  node.fetcher.load();
  node.fetcher.start();
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().failed == 1; }, 1s));
  EXPECT_EQ(circuits_.asked.size(), 1u);
  // Section 6.1: a back-off of 1 s before the next source.
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().failed == 2; }, 3s));
  EXPECT_EQ(circuits_.asked.size(), 2u);
  EXPECT_NE(
      node.registry.prometheus_text().find("nyx_directory_fetches_total{result=\"failed\"} 2"),
      std::string::npos);
  EXPECT_TRUE(node.installed.empty());
}

TEST_F(DirectoryFetcherTest, ARestartInstallsFromTheFilesWithoutFetching) {
  service_.held.hold(kQ, std::make_shared<const std::vector<std::uint8_t>>(consensus_bytes()));
  {
    Client& first = client();
    first.fetcher.load();
    first.fetcher.start();
    ASSERT_TRUE(test::run_until(
        io_, timers_, [&] { return first.fetcher.counters().installed == 1; }, 10s));
    first.fetcher.stop();
    test::poll_ready(io_);
  }
  Client& second = client();
  const document::LoadReport report = second.fetcher.load();
  EXPECT_FALSE(report.current_refused);
  EXPECT_EQ(second.installed, std::vector<std::uint64_t>{kQ});
  EXPECT_EQ(circuits_.asked.size(), 1u);
}

// Each case is a real consensus, signed with real keys, that breaks one rule
// of section 6.3; the label it is counted under.
struct Hostile {
  const char* name;
  std::vector<std::uint8_t> bytes;
  const char* reason;
};

std::vector<Hostile> hostile_consensuses() {
  return {
      // Check 7: one valid signature where two are needed.
      {"below_threshold", consensus_bytes(kQ, {1}), "below_threshold"},
      // Check 3, the lifetime bound: a 2 h period would make it valid for 4 h.
      {"longer_lifetime", consensus_bytes(kQ / 2, {1, 2}, 2 * test::kPeriodSeconds),
       "wrong_period"},
      // Check 5: valid until T_{q+2}, which is before now.
      {"expired", consensus_bytes(kQ - 2), "expired"},
      // Check 6: valid from two periods ahead, far past 2u + S of skew.
      {"from_the_future", consensus_bytes(kQ + 2), "not_yet_valid"},
  };
}

TEST_F(DirectoryFetcherTest, AConsensusThatFailsVerificationIsNeverUsedAndTheRetryBacksOff) {
  for (Hostile& hostile : hostile_consensuses()) {
    SCOPED_TRACE(hostile.name);
    service_.forced = shared(hostile.bytes);
    Client& node = client();
    node.fetcher.load();
    node.fetcher.start();
    const std::size_t asked = circuits_.asked.size();
    ASSERT_TRUE(test::run_until(
        io_, timers_, [&] { return node.fetcher.counters().refused == 1; }, 5s));
    EXPECT_TRUE(counted_refusal(node, hostile.reason)) << node.registry.prometheus_text();
    EXPECT_TRUE(node.installed.empty());
    EXPECT_FALSE(node.tracker.installed());
    EXPECT_FALSE(node.tracker.pending());
    EXPECT_FALSE(std::filesystem::exists(node.fetcher.current_file()));
    EXPECT_FALSE(std::filesystem::exists(node.fetcher.next_file()));
    // No hot loop: the next source is asked after the back-off, not at once.
    EXPECT_EQ(circuits_.asked.size(), asked + 1);
    test::run_for(io_, timers_, 900ms);
    EXPECT_EQ(circuits_.asked.size(), asked + 1);
    ASSERT_TRUE(test::run_until(
        io_, timers_, [&] { return node.fetcher.counters().refused == 2; }, 2s));
    EXPECT_EQ(circuits_.asked.size(), asked + 2);
    node.fetcher.stop();
    test::poll_ready(io_);
  }
}

TEST_F(DirectoryFetcherTest, AConsensusOlderThanTheOneHeldIsRefusedAndTheFileKept) {
  const auto bytes = consensus_bytes();
  service_.held.hold(kQ, shared(bytes));
  Client& node = client();
  node.fetcher.load();
  node.fetcher.start();
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().installed == 1; }, 10s));
  // At the next fetch the cache serves consensus kQ − 1: still within its
  // lifetime and properly signed, but older than what the node holds.
  service_.forced = shared(consensus_bytes(kQ - 1));
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().refused == 1; },
      std::chrono::seconds(kP)));
  EXPECT_TRUE(counted_refusal(node, "older")) << node.registry.prometheus_text();
  EXPECT_EQ(node.installed, std::vector<std::uint64_t>{kQ});
  ASSERT_TRUE(node.tracker.installed());
  EXPECT_EQ(node.tracker.installed()->consensus.period, kQ);
  EXPECT_EQ(read_file(node.fetcher.current_file()), bytes);
}

TEST_F(DirectoryFetcherTest, AConsensusValidSoonIsHeldPendingAndInstalledAtItsValidAfter) {
  // 400 s before valid_after: within 2u + S (600 s + 300 s), so accepted.
  clock_.set(std::chrono::seconds(kValidAfter - 400));
  const auto bytes = consensus_bytes();
  service_.held.hold(kQ, shared(bytes));
  Client& node = client();
  node.fetcher.load();
  node.fetcher.start();
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().pending == 1; }, 10s));
  EXPECT_TRUE(node.installed.empty());
  EXPECT_EQ(read_file(node.fetcher.next_file()), bytes);
  EXPECT_FALSE(std::filesystem::exists(node.fetcher.current_file()));
  // Section 6.5: a pending consensus is never drawn from.
  EXPECT_EQ(node.tracker.consensus_for_paths(now()), nullptr);
  test::run_for(io_, timers_, std::chrono::seconds(kValidAfter - now()) - 1ms);
  EXPECT_TRUE(node.installed.empty());
  test::run_for(io_, timers_, 2ms);
  EXPECT_EQ(node.installed, std::vector<std::uint64_t>{kQ});
  EXPECT_EQ(read_file(node.fetcher.current_file()), bytes);
  EXPECT_FALSE(std::filesystem::exists(node.fetcher.next_file()));
}

TEST_F(DirectoryFetcherTest, NoLogLineNamesASourceAndAServersTextIsEscaped) {
  const std::filesystem::path log_file = dir_.path() / "nyxd.log";
  ASSERT_TRUE(log::init(log::LogOptions{.level = log::Level::kTrace, .file = log_file}));
  // A refusal whose text tries to forge a log line of its own.
  service_.forced_reply = document::RefusedReply{document::RefusalReason::kLimit,
                                                 "full\ndirectory: consensus accepted"};
  Client& node = client();
  node.fetcher.load();
  node.fetcher.start();
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().refused == 2; }, 5s));
  service_.forced_reply = document::NotFoundReply{};
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return node.fetcher.counters().failed == 2; }, 10s));
  log::flush();
  std::ifstream in(log_file, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_TRUE(log::init(log::LogOptions{}));  // back to stderr at info for other tests
  ASSERT_NE(text.find("refused the request"), std::string::npos) << text;  // the capture works
  EXPECT_EQ(text.find("\ndirectory: consensus accepted"), std::string::npos) << text;
  for (const DirectorySource& source : tracker_config().authorities) {
    EXPECT_EQ(text.find(crypto::to_hex(source.link_key).substr(0, 8)), std::string::npos) << text;
  }
  for (const DirectorySource& source : tracker_config().fallbacks) {
    EXPECT_EQ(text.find(crypto::to_hex(source.link_key).substr(0, 8)), std::string::npos) << text;
  }
  EXPECT_EQ(text.find("203.0.113.1"), std::string::npos) << text;
}

}  // namespace
}  // namespace nyx::daemon
