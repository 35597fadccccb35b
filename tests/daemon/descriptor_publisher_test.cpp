// DescriptorPublisher (proposal 0002, section 5.0): the descriptor built from
// the configuration and a real OnionKeyManager verifies and carries the
// manager's keys; and in simulated time (ManualClock set to a date,
// ManualTimers) the uploads reach the real DirectoryServer at the times of
// document/authority_schedule: at start, at the start of the next upload
// window (the random draw pinned to 0), after BUSY with the back-off and
// never before its retry_after, to an unreachable authority with a back-off
// capped at u/2 until the deadline (the others not held up), and across a
// deadline that the relay's and an authority's clocks straddle either way.
// The authority behind the server is a stand-in that verifies the
// descriptor, refuses another epoch than its clock's open one as
// AuthorityState does, and answers OK (the daemon's authority service is
// not written yet); the circuit seam is a MemoryChannel pair per upload.
#include "daemon/descriptor_publisher.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/directory_server.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/support/memory_channel.hpp"
#include "mix/memory_replay_store.hpp"
#include "mix/onion_key_ring.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using namespace std::chrono_literals;
using document::DirectorySource;

constexpr std::uint64_t kP = 3600;
constexpr std::uint64_t kS = 300;
constexpr std::uint64_t kU = kP / 12;
constexpr std::uint64_t kE = 482146;
constexpr std::uint64_t kStart = kE * kP + 600;  // target(now) = kE + 1

crypto::Ed25519KeyPair identity() {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 7;
  return crypto::Ed25519KeyPair::from_seed(seed);
}

NodeConfig relay_config(bool exit = false) {
  NodeConfig config;
  config.node.roles.relay = true;
  config.node.roles.exit = exit;
  config.relay.advertise_udp = HostPort{"198.51.100.7", 9340};
  config.relay.advertise_tcp = HostPort{"198.51.100.7", 9341};
  config.relay.bandwidth_weight = 250;
  config.relay.family = "example.org";
  config.exit.advertise = {"accept *:443", "reject *:*"};
  return config;
}

crypto::X25519PublicKey link_key() {
  crypto::X25519PublicKey key{};
  key[0] = 0x11;
  return key;
}

// Stands in for an authority: verifies each POST_DESCRIPTOR, refuses one
// for another epoch than target() on its own clock with AuthorityState's
// wrong_epoch message, and answers OK with its epoch, after `busy` BUSY
// answers.
class VerifyingAuthority final : public DirectoryService {
 public:
  explicit VerifyingAuthority(const Clock& clock) : clock_(clock) {}
  asio::awaitable<DirectoryAnswer> answer(const document::DirectoryRequest& request,
                                          const DirectoryRequestContext&) override {
    const auto* post = std::get_if<document::PostDescriptorRequest>(&request);
    if (post == nullptr) {
      co_return document::DirectoryReply(document::NotFoundReply{});
    }
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now()).count());
    times.push_back(now);
    if (busy > 0) {
      --busy;
      co_return document::DirectoryReply(
          document::BusyReply{.retry_after_seconds = busy_retry_after});
    }
    if (refusal) {
      co_return document::DirectoryReply(*refusal);
    }
    auto descriptor = document::SignedDescriptor::parse_and_verify(post->descriptor);
    if (!descriptor) {
      co_return document::DirectoryReply(
          document::RefusedReply{document::RefusalReason::kBadSignature, "bad"});
    }
    const auto its_clock = static_cast<std::uint64_t>(static_cast<std::int64_t>(now) + clock_skew);
    const std::uint64_t open = document::Period::from_seconds(kP)->upload_target(its_clock);
    if (descriptor->epoch != open) {
      co_return document::DirectoryReply(
          document::RefusedReply{document::RefusalReason::kWrongEpoch,
                                 fmt::format("descriptor for epoch {}, this authority accepts {}",
                                             descriptor->epoch, open)});
    }
    epochs.push_back(descriptor->epoch);
    bytes.push_back(post->descriptor);
    co_return document::DirectoryReply(document::DescriptorAcceptedReply{descriptor->epoch});
  }
  std::int64_t clock_skew = 0;                    // the authority's clock minus the relay's
  std::optional<document::RefusedReply> refusal;  // answers every upload when set
  int busy = 0;
  std::uint16_t busy_retry_after = 1;
  std::vector<std::uint64_t> times;
  std::vector<std::uint64_t> epochs;
  std::vector<std::vector<std::uint8_t>> bytes;  // of each accepted upload

 private:
  const Clock& clock_;
};

// Each upload reaches the server over a MemoryChannel pair, except to the
// authorities marked unreachable, whose circuits fail at once (as one to an
// address that answers no handshake does, if sooner).
class MemoryCircuits final : public DirectoryCircuitSource {
 public:
  MemoryCircuits(asio::io_context& io, const Clock& clock, DirectoryServer& server)
      : io_(io), clock_(clock), server_(server) {}
  asio::awaitable<Result<DirectoryCircuit>> open(const DirectorySource& source) override {
    const auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now()).count());
    opened[source.link_key[0]].push_back(now);
    if (unreachable.contains(source.link_key[0])) {
      co_return make_error(ErrorCategory::kClosed, "no handshake");
    }
    auto [ours, theirs] = MemoryChannel::pair(io_);
    // The link's peer key is the relay's own, as section 5.1 requires.
    server_.accept(std::move(theirs), DirectoryRequestContext{.link_peer = link_key()});
    co_return DirectoryCircuit{.channel = std::move(ours), .set_closed_handler = {}};
  }
  // By the first byte of the authority's link key (its number).
  std::set<std::uint8_t> unreachable;
  std::map<std::uint8_t, std::vector<std::uint64_t>> opened;

 private:
  asio::io_context& io_;
  const Clock& clock_;
  DirectoryServer& server_;
};

// Draws 0, 1, 2, ... seconds: uploads to the authorities at different times.
class Counting final : public mix::RandomSource {
 public:
  std::uint64_t uniform(std::uint64_t bound) override { return bound == 0 ? 0 : next_++ % bound; }

 private:
  std::uint64_t next_ = 0;
};

class Lowest final : public mix::RandomSource {
 public:
  std::uint64_t uniform(std::uint64_t) override { return 0; }
};

TEST(DescriptorPublisherBuild, TheDescriptorVerifiesAndCarriesTheManagersKeys) {
  test::TempDir tmp;
  auto dir = DataDir::open(tmp.path() / "data");
  ASSERT_TRUE(dir.has_value());
  mix::OnionKeyRing ring;
  auto factory = [](std::uint64_t, const crypto::X25519PublicKey&) {
    return std::make_unique<mix::MemoryReplayStore>(1000);
  };
  auto manager = OnionKeyManager::open(std::move(*dir), {*document::Period::from_seconds(kP), kS},
                                       ring, factory, std::chrono::seconds(kStart));
  ASSERT_TRUE(manager.has_value()) << manager.error().to_string();
  manager->on_time(std::chrono::seconds(kStart));
  const auto keys = manager->published();
  ASSERT_TRUE(keys.has_value());

  auto content = descriptor_content(relay_config(/*exit=*/true), link_key());
  ASSERT_TRUE(content.has_value()) << content.error().to_string();
  const auto id = identity();
  auto built = build_descriptor(*content, id, *keys, kStart);
  ASSERT_TRUE(built.has_value()) << built.error().to_string();
  auto bytes = built->encode();
  ASSERT_TRUE(bytes.has_value());
  auto parsed = document::SignedDescriptor::parse_and_verify(*bytes);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_EQ(parsed->identity_key, id.public_key);
  EXPECT_EQ(parsed->epoch, kE + 1);
  EXPECT_EQ(parsed->onion_key, keys->onion_key);
  EXPECT_EQ(parsed->next_onion_key, keys->next_onion_key);
  EXPECT_EQ(parsed->link_key, link_key());
  EXPECT_EQ(parsed->published, kStart);
  EXPECT_EQ(parsed->udp_address.to_text(), "198.51.100.7:9340");
  EXPECT_EQ(parsed->tcp_address.to_text(), "198.51.100.7:9341");
  EXPECT_EQ(parsed->roles, document::kRolesRelayExit);
  EXPECT_EQ(parsed->bandwidth_weight, 250u);
  EXPECT_EQ(parsed->family, "example.org");
}

TEST(DescriptorPublisherBuild, ARelayWithoutAnAdvertisedUdpAddressCannotPublish) {
  NodeConfig config = relay_config();
  config.relay.advertise_udp.reset();
  auto content = descriptor_content(config, link_key());
  ASSERT_FALSE(content.has_value());
  EXPECT_EQ(content.error().category, ErrorCategory::kConfig);
}

class DescriptorPublisherTest : public ::testing::Test {
 protected:
  DescriptorPublisherTest() {
    clock_.set(std::chrono::seconds(kStart));
    service_.attach_authority(&authority_);
  }
  ~DescriptorPublisherTest() override {
    if (publisher_) {
      publisher_->stop();
      test::poll_ready(io_);
      publisher_.reset();
    }
    server_.stop();
    test::poll_ready(io_);
  }

  void start(std::size_t authorities, mix::RandomSource* random = nullptr) {
    auto content = descriptor_content(relay_config(), link_key());
    ASSERT_TRUE(content.has_value());
    // Authority i (from 1) is told apart by the first byte of its link key.
    std::vector<DirectorySource> sources(authorities);
    for (std::size_t i = 0; i < authorities; ++i) {
      sources[i].kind = DirectorySource::Kind::kAuthority;
      sources[i].link_key.fill(0x5A);
      sources[i].link_key[0] = static_cast<std::uint8_t>(i + 1);
      sources[i].udp_address =
          *document::NodeAddress::from_text("192.0.2." + std::to_string(i + 1) + ":9340");
    }
    auto keys = [this]() -> std::optional<OnionKeyManager::PublishedKeys> {
      const std::uint64_t now = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::seconds>(clock_.now()).count());
      OnionKeyManager::PublishedKeys out;
      out.epoch = document::Period::from_seconds(kP)->upload_target(now);
      out.onion_key[0] = static_cast<std::uint8_t>(out.epoch);
      out.next_onion_key[0] = static_cast<std::uint8_t>(out.epoch + 1);
      return out;
    };
    publisher_ = std::make_unique<DescriptorPublisher>(
        io_.get_executor(), clock_, timers_, requester_, *document::Period::from_seconds(kP),
        std::move(*content), identity_, keys, std::move(sources),
        random != nullptr ? *random : static_cast<mix::RandomSource&>(random_));
    publisher_->publish_metrics(registry_);
    publisher_->start();
  }

  std::uint64_t now() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now()).count());
  }

  asio::io_context io_;
  ManualClock clock_;
  async::ManualTimers timers_{io_, clock_};
  VerifyingAuthority authority_{clock_};
  HeldConsensusService service_;
  DirectoryServer server_{io_, clock_, timers_, service_};
  MemoryCircuits circuits_{io_, clock_, server_};
  DirectoryRequester requester_{io_.get_executor(), clock_, timers_, circuits_};
  crypto::Ed25519KeyPair identity_ = identity();
  Lowest random_;
  metrics::Registry registry_;
  std::unique_ptr<DescriptorPublisher> publisher_;
};

TEST_F(DescriptorPublisherTest, UploadsAtStartToEveryAuthorityThenAtTheNextWindow) {
  start(3);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 3; }, 5s));
  EXPECT_EQ(authority_.epochs, (std::vector<std::uint64_t>{kE + 1, kE + 1, kE + 1}));
  for (const AuthorityUploads& uploads : publisher_->uploads()) {
    EXPECT_EQ(uploads.accepted, 1u);
    EXPECT_EQ(uploads.accepted_epoch, kE + 1);
  }
  // The next window of section 5.0 opens at T_{E+2} − 17u; the draw is 0.
  const std::uint64_t next = (kE + 2) * kP - 17 * kU;
  test::run_for(io_, timers_, std::chrono::seconds(next - now()) - 1ms);
  EXPECT_EQ(authority_.epochs.size(), 3u);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 6; }, 5s));
  for (std::size_t i = 3; i < 6; ++i) {
    EXPECT_EQ(authority_.epochs[i], kE + 2);
    EXPECT_EQ(authority_.times[i], next);
  }
  EXPECT_NE(
      registry_.prometheus_text().find("nyx_relay_descriptor_uploads_total{result=\"accepted\"} 6"),
      std::string::npos)
      << registry_.prometheus_text();
}

// Section 5.5 lists only a descriptor a majority holds byte for byte: one
// signed afresh per authority, at another second, would never be listed.
TEST_F(DescriptorPublisherTest, EveryAuthorityGetsTheSameBytesWhenUploadedAtDifferentTimes) {
  Counting counting;
  start(3, &counting);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 3; }, 5s));
  const std::uint64_t next = (kE + 2) * kP - 17 * kU;
  test::run_for(io_, timers_, std::chrono::seconds(next - now()));
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 6; }, 10s));
  const std::set<std::uint64_t> times(authority_.times.begin() + 3, authority_.times.end());
  EXPECT_EQ(times.size(), 3u) << "the draws should spread the uploads over three seconds";
  for (std::size_t i = 4; i < 6; ++i) {
    EXPECT_EQ(authority_.epochs[i], kE + 2);
    EXPECT_EQ(authority_.bytes[i], authority_.bytes[3]);
  }
  EXPECT_NE(authority_.bytes[3], authority_.bytes[0]);  // a new epoch, a new descriptor
}

TEST_F(DescriptorPublisherTest, BusyIsRetriedAfterOneSecondThenTwo) {
  authority_.busy = 2;
  start(1);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 1; }, 10s));
  ASSERT_EQ(authority_.times.size(), 3u);
  EXPECT_EQ(authority_.times[1] - authority_.times[0], 1u);
  EXPECT_EQ(authority_.times[2] - authority_.times[1], 2u);
  EXPECT_EQ(publisher_->uploads()[0].failed, 2u);
  EXPECT_EQ(publisher_->uploads()[0].accepted, 1u);
}

TEST_F(DescriptorPublisherTest, BusyIsNotRetriedBeforeItsRetryAfter) {
  authority_.busy = 1;
  authority_.busy_retry_after = 60;
  start(1);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 1; }, 120s));
  ASSERT_EQ(authority_.times.size(), 2u);
  EXPECT_EQ(authority_.times[1] - authority_.times[0], 60u);
}

TEST_F(DescriptorPublisherTest, AnUnreachableAuthorityIsRetriedWithBackOffUntilTheDeadline) {
  circuits_.unreachable.insert(2);
  start(3);
  // The other two are not held up by it.
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 2; }, 5s));
  const std::uint64_t deadline = (kE + 1) * kP - 5 * kU;  // of epoch kE + 1
  test::run_for(io_, timers_, std::chrono::seconds(deadline - now()) - 1ms);
  const std::vector<std::uint64_t> tries = circuits_.opened[2];
  // 1 s, doubling, capped at u/2, until the deadline: 17 attempts in 1500 s.
  ASSERT_EQ(tries.size(), 17u);
  EXPECT_EQ(tries.front(), kStart);
  for (std::size_t i = 1; i < tries.size(); ++i) {
    const std::uint64_t expected = std::min<std::uint64_t>(std::uint64_t{1} << (i - 1), kU / 2);
    EXPECT_EQ(tries[i] - tries[i - 1], expected) << "attempt " << i;
  }
  EXPECT_LT(tries.back(), deadline);
  EXPECT_EQ(publisher_->uploads()[1].failed, 17u);
  EXPECT_EQ(publisher_->uploads()[1].accepted, 0u);
  // The deadline opens epoch kE + 2's window (the draw is 0): every
  // authority is asked again, the unreachable one included.
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 4; }, 5s));
  EXPECT_EQ(authority_.epochs[2], kE + 2);
  EXPECT_EQ(authority_.epochs[3], kE + 2);
  EXPECT_EQ(circuits_.opened[2].size(), 18u);
  EXPECT_EQ(circuits_.opened[2].back(), deadline);
}

TEST_F(DescriptorPublisherTest, AnAuthorityAheadAcrossTheDeadlineGetsItsOpenEpoch) {
  const std::uint64_t deadline = (kE + 1) * kP - 5 * kU;
  clock_.set(std::chrono::seconds(deadline - 3));  // target(now) = kE + 1
  authority_.clock_skew = 4;                       // it accepts kE + 2 already
  start(1);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 1; }, 10s));
  EXPECT_EQ(authority_.epochs[0], kE + 2);
  EXPECT_EQ(publisher_->uploads()[0].refused, 1u);
  EXPECT_EQ(publisher_->uploads()[0].accepted_epoch, kE + 2);
  // The next epoch, kE + 3, at the start of its own window.
  const std::uint64_t next = (kE + 3) * kP - 17 * kU;
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 2; }, std::chrono::seconds(kP)));
  EXPECT_EQ(authority_.epochs[1], kE + 3);
  EXPECT_EQ(authority_.times.back(), next);
}

TEST_F(DescriptorPublisherTest, AnAuthorityBehindAcrossTheDeadlineIsRetriedUntilItOpensTheEpoch) {
  const std::uint64_t deadline = (kE + 1) * kP - 5 * kU;
  clock_.set(std::chrono::seconds(deadline + 2));  // target(now) = kE + 2
  authority_.clock_skew = -4;                      // it still accepts kE + 1
  start(1);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return authority_.epochs.size() == 1; }, 10s));
  // Epoch kE + 2 is not skipped: refused twice, then accepted once the
  // authority's clock passed its own deadline.
  EXPECT_EQ(authority_.epochs[0], kE + 2);
  EXPECT_EQ(publisher_->uploads()[0].refused, 2u);
  EXPECT_EQ(authority_.times,
            (std::vector<std::uint64_t>{deadline + 2, deadline + 3, deadline + 5}));
}

TEST_F(DescriptorPublisherTest, AWrongEpochFarOffIsNotRetriedBeforeTheNextWindow) {
  authority_.clock_skew = static_cast<std::int64_t>(2 * kP);  // two epochs off: a clock fault
  start(1);
  ASSERT_TRUE(test::run_until(
      io_, timers_, [&] { return publisher_->uploads()[0].refused == 1; }, 5s));
  // Until just before the next window opens (at epoch kE + 1's deadline).
  const std::uint64_t deadline = (kE + 1) * kP - 5 * kU;
  test::run_for(io_, timers_, std::chrono::seconds(deadline - now()) - 1ms);
  EXPECT_EQ(authority_.times.size(), 1u);
  EXPECT_TRUE(authority_.epochs.empty());
}

TEST_F(DescriptorPublisherTest, NoLogLineNamesAnAuthorityAndItsTextIsEscaped) {
  test::TempDir logs;
  const std::filesystem::path log_file = logs.path() / "nyxd.log";
  ASSERT_TRUE(log::init(log::LogOptions{.level = log::Level::kTrace, .file = log_file}));
  circuits_.unreachable.insert(1);
  // Authority #2's refusal tries to forge a log line of its own.
  authority_.refusal = document::RefusedReply{
      document::RefusalReason::kUnreachable,
      "udp 198.51.100.7:9340: no handshake in 10 s\nrelay: descriptor accepted"};
  start(2);
  ASSERT_TRUE(test::run_until(
      io_, timers_,
      [&] { return publisher_->uploads()[1].refused == 1 && publisher_->uploads()[0].failed >= 3; },
      10s));
  log::flush();
  std::ifstream in(log_file, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_TRUE(log::init(log::LogOptions{}));  // back to stderr at info for other tests
  ASSERT_NE(text.find("refused the descriptor"), std::string::npos) << text;  // the capture works
  EXPECT_EQ(text.find("\nrelay: descriptor accepted"), std::string::npos) << text;
  EXPECT_EQ(text.find("5a5a5a5a"), std::string::npos) << text;  // any authority's link key
  EXPECT_EQ(text.find("192.0.2."), std::string::npos) << text;  // any authority's address
}

}  // namespace
}  // namespace nyx::daemon
