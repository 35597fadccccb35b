// AuthorityDriver (proposal 0002 sections 2.3, 5.2 to 5.8, 11): three
// authorities in simulated time (P = 24 s, u = 2 s) exchange real votes and
// signatures (real Ed25519 keys, real encodings) and publish consensus q.
// With three up they publish the same bytes with 3 signatures at T − 2u;
// with one down the other two still do, with 2, and are not held up by the
// requests to it; with two down nothing is published and the survivor logs
// and counts why; a relay that fails the sweep (refused, or silent past the
// probe timeout) is not listed; a vote and a signature whose pushes are lost
// are pulled; stop() ends requests that hang without waiting for them.
//
// The transport is in memory, and faked only below the directory requests:
// each CREATE_DIR circuit is a MemoryChannel pair (the real circuits are
// tested in directory_requester_test and the mix layer's tests), and above
// it everything is the real code: DirectoryRequester, the stream sessions,
// the request and reply codec, DirectoryServer and HeldConsensusService. An
// authority that is down is one whose circuits never open, as a host that
// answers no handshake. Each authority's request side is its real
// AuthorityService (with its store), behind LossyAuthorityService, which
// can drop the POSTs of one link to make the others pull.
#include "daemon/authority_driver.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "async/manual_timers.hpp"
#include "async/spawn.hpp"
#include "async/timer.hpp"
#include "core/bytes.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/x25519.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "daemon/authority_service.hpp"
#include "daemon/authority_store.hpp"
#include "daemon/directory_requester.hpp"
#include "daemon/directory_server.hpp"
#include "daemon/directory_service.hpp"
#include "daemon/support/memory_channel.hpp"
#include "daemon/support/scripted_prober.hpp"
#include "document/authority_state.hpp"
#include "document/support/authority_timeline.hpp"
#include "document/support/voting_fixtures.hpp"
#include "document/verify_consensus.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using namespace test::authority_timeline;

using namespace std::chrono_literals;
using document::AuthorityState;

constexpr std::uint64_t kSkew = 1;
constexpr std::string_view kWhen = "10:40 UTC";
// Inside q's upload window; q − 1's publication has passed, so the drivers
// start with q's sweep at T − 5u.
constexpr std::uint64_t kStart = kT - 27;
constexpr int kAuthorities = 3;
constexpr int kRelays = 5;
constexpr int kRefusingRelay = 4;  // refuses the sweep's handshake
constexpr int kSilentRelay = 5;    // never answers it

const document::Period& period() {
  static const document::Period p = *document::Period::from_seconds(kP);
  return p;
}

document::AuthorityConfig config() {
  document::AuthorityConfig c{.period = period(), .clock_skew = kSkew, .authorities = {}};
  for (int n = 1; n <= kAuthorities; ++n) {
    c.authorities.push_back({test::authority_key(n).public_key, authority_link(n)});
  }
  return c;
}

// Relay n's descriptor for q, published when the test starts.
document::SignedDescriptor relay(int n) {
  document::SignedDescriptor d = test::relay_descriptor(n, kQ);
  d.published = kStart;
  EXPECT_TRUE(d.sign(test::relay_identity(n)));
  return d;
}

std::uint64_t unix_seconds(const Clock& clock) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(clock.now()).count());
}

// An authority's request side: its real AuthorityService, except that the
// POSTs from the links in `lose_posts_from` are answered BUSY for an hour,
// as if lost on the way, so that the other authorities must pull.
class LossyAuthorityService final : public DirectoryService {
 public:
  explicit LossyAuthorityService(DirectoryService& service) : service_(service) {}

  std::optional<document::DirectoryReply> screen(document::DirectoryRequestType type,
                                                 const DirectoryRequestContext& context) override {
    return service_.screen(type, context);
  }

  asio::awaitable<DirectoryAnswer> answer(const document::DirectoryRequest& request,
                                          const DirectoryRequestContext& context) override {
    const bool post = std::holds_alternative<document::PostVoteRequest>(request) ||
                      std::holds_alternative<document::PostSignatureRequest>(request);
    if (post && context.link_peer && lose_posts_from.contains(*context.link_peer)) {
      co_return document::DirectoryReply(document::BusyReply{.retry_after_seconds = 3600});
    }
    DirectoryAnswer answered = co_await service_.answer(request, context);
    co_return answered;
  }

  std::set<crypto::X25519PublicKey> lose_posts_from;

 private:
  DirectoryService& service_;
};

// The authorities' directory servers by link key; a link not here is down.
struct Network {
  asio::io_context& io;
  async::TimerService& timers;
  std::map<crypto::X25519PublicKey, DirectoryServer*> servers;
  // Circuits opened, by the link key of their far end.
  std::map<crypto::X25519PublicKey, int> opened;
};

// An authority's circuits: a MemoryChannel pair to the far end's server,
// whose requests then come from this authority's link key; to an authority
// that is down, a circuit that never opens (until the requester gives up).
class MemoryCircuits final : public DirectoryCircuitSource {
 public:
  MemoryCircuits(Network& network, const crypto::X25519PublicKey& own_link)
      : network_(network), own_link_(own_link) {}

  asio::awaitable<Result<DirectoryCircuit>> open(const document::DirectorySource& source) override {
    ++network_.opened[source.link_key];
    const auto server = network_.servers.find(source.link_key);
    if (server == network_.servers.end()) {
      async::Timer never(co_await asio::this_coro::executor, network_.timers);
      never.expires_after(std::chrono::hours(1));
      const asio::error_code waited = co_await never.wait();
      (void)waited;
      co_return make_error(ErrorCategory::kTimeout, "no handshake");
    }
    auto [ours, theirs] = MemoryChannel::pair(network_.io);
    server->second->accept(std::move(theirs), DirectoryRequestContext{.link_peer = own_link_});
    co_return DirectoryCircuit{.channel = std::move(ours), .set_closed_handler = {}};
  }

 private:
  Network& network_;
  crypto::X25519PublicKey own_link_;
};

std::vector<AuthorityPeer> peers_of(int n) {
  std::vector<AuthorityPeer> out;
  for (int m = 1; m <= kAuthorities; ++m) {
    if (m == n) {
      continue;
    }
    AuthorityPeer peer;
    peer.authority_key = test::authority_key(m).public_key;
    peer.source.kind = document::DirectorySource::Kind::kAuthority;
    peer.source.link_key = authority_link(m);
    peer.source.udp_address.kind = document::NodeAddress::Kind::kIpv4;
    peer.source.udp_address.ip = {127, 0, 0, static_cast<std::uint8_t>(m)};
    peer.source.udp_address.port = 9340;
    out.push_back(std::move(peer));
  }
  return out;
}

struct Published {
  std::uint64_t period = 0;
  std::vector<std::uint8_t> bytes;
  std::uint64_t at = 0;
};

// One authority node, as nyxd assembles it: the state shared by its request
// side and its driver, its directory server, requester and prober; what it
// publishes is held by its HeldConsensusService.
struct AuthorityNode {
  AuthorityNode(int number, asio::io_context& io, ManualClock& clock, async::ManualTimers& timers,
                Network& network)
      : state(*AuthorityState::make(config(), test::authority_key(number))),
        store(*AuthorityStore::open(dir.path(), kP, test::authority_key(number).public_key)),
        prober(timers),
        service(io.get_executor(), state, store, prober, clock, timers, service_registry),
        requests(service),
        server(io, clock, timers, held),
        circuits(network, authority_link(number)),
        requester(io.get_executor(), clock, timers, circuits),
        driver(io.get_executor(), clock, timers, state, requester, prober, peers_of(number)) {
    held.attach_authority(&requests);
    driver.set_publish_handler([this, &clock](std::uint64_t q, SharedDocument consensus) {
      published.push_back({q, *consensus, unix_seconds(clock)});
      held.hold(q, std::move(consensus));
    });
    driver.set_save_handler(
        [this, &clock](std::uint64_t q) { saved.emplace_back(q, unix_seconds(clock)); });
    driver.set_prune_handler([this](std::uint64_t keep_from) { pruned.push_back(keep_from); });
    driver.publish_metrics(registry);
  }

  bool metric(std::string_view line) const {
    return registry.prometheus_text().find(line) != std::string::npos;
  }

  AuthorityState state;
  test::TempDir dir;
  AuthorityStore store;
  ScriptedProber prober;
  metrics::Registry service_registry;  // apart: the driver's metrics are checked exactly
  AuthorityService service;
  LossyAuthorityService requests;
  HeldConsensusService held;
  DirectoryServer server;
  MemoryCircuits circuits;
  DirectoryRequester requester;
  metrics::Registry registry;
  AuthorityDriver driver;
  std::vector<Published> published;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> saved;  // (q, when)
  std::vector<std::uint64_t> pruned;                           // keep_from, per sweep
};

class AuthorityDriverTest : public ::testing::Test {
 protected:
  AuthorityDriverTest() {
    clock_.set(std::chrono::seconds(kStart));
    log_file_ = dir_.path() / "nyxd.log";
    EXPECT_TRUE(log::init(log::LogOptions{.level = log::Level::kInfo, .file = log_file_}));
  }
  ~AuthorityDriverTest() override {
    EXPECT_TRUE(stop_all());
    for (auto& [n, node] : nodes_) {
      node->server.stop();
      node->service.stop();
    }
    test::poll_ready(io_);
    nodes_.clear();
    test::poll_ready(io_);
    EXPECT_TRUE(log::init(log::LogOptions{}));  // back to stderr for the other tests
  }

  // Stops every driver and runs the io_context, in real time with no
  // simulated time passing, until each has ended everything it started.
  bool stop_all() {
    std::size_t running = nodes_.size();
    for (auto& [n, node] : nodes_) {
      node->driver.stop();
      async::spawn(io_.get_executor(), count_down_when_stopped(node->driver, running),
                   "wait_stopped");
    }
    return test::run_until(
        io_, [&] { return running == 0; }, 5s);
  }
  static asio::awaitable<void> count_down_when_stopped(AuthorityDriver& driver,
                                                       std::size_t& running) {
    co_await driver.wait_stopped();
    --running;
  }

  // Authorities `up` run; the others are down. Relays 1 to 5 upload to each
  // (every address reached at upload); in the sweep relay 4 refuses the
  // handshake and relay 5 never answers.
  void start(std::initializer_list<int> up) {
    for (int n : up) {
      auto node = std::make_unique<AuthorityNode>(n, io_, clock_, timers_, network_);
      for (int r = 1; r <= kRelays; ++r) {
        const document::SignedDescriptor d = relay(r);
        const auto bytes = *d.encode();
        auto screened = node->state.screen_descriptor(bytes, d.link_key, kStart);
        ASSERT_TRUE(screened) << screened.error().message;
        const std::vector<document::ProbeResult> reached = {
            {d.udp_address, document::LinkTransport::kUdp, true, ""}};
        auto admitted = node->state.admit_descriptor(*screened, reached, kStart);
        ASSERT_TRUE(admitted) << admitted.error().message;
      }
      node->prober.answer(relay(kRefusingRelay).link_key, ScriptedProber::Answer::kRefused);
      node->prober.answer(relay(kSilentRelay).link_key, ScriptedProber::Answer::kSilent);
      network_.servers[authority_link(n)] = &node->server;
      nodes_.emplace(n, std::move(node));
    }
    for (auto& [n, node] : nodes_) {
      node->driver.start();
    }
  }

  AuthorityNode& node(int n) { return *nodes_.at(n); }

  // Runs until T (the consensus's valid_after) in simulated time.
  void run_period() { test::run_for(io_, timers_, std::chrono::seconds(kT) - clock_.now()); }

  std::string log_text() const {
    log::flush();
    std::ifstream in(log_file_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static std::size_t count(const std::string& text, std::string_view needle) {
    std::size_t found = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++found;
    }
    return found;
  }

  document::ConsensusTrust trust() const {
    std::vector<crypto::Ed25519PublicKey> keys;
    for (int n = 1; n <= kAuthorities; ++n) {
      keys.push_back(test::authority_key(n).public_key);
    }
    return *document::ConsensusTrust::make(keys, 0, period(), kSkew);
  }

  std::set<document::NodeId> listed(const document::VerifiedConsensus& verified) const {
    std::set<document::NodeId> ids;
    for (const document::RelayEntry& entry : verified.consensus.entries) {
      ids.insert(entry.node_id());
    }
    return ids;
  }

  asio::io_context io_;
  ManualClock clock_;
  async::ManualTimers timers_{io_, clock_};
  test::TempDir dir_;
  std::filesystem::path log_file_;
  Network network_{io_, timers_, {}, {}};
  std::map<int, std::unique_ptr<AuthorityNode>> nodes_;
};

// The relays that pass the sweep.
std::set<document::NodeId> reachable_relays() {
  return {relay(1).node_id(), relay(2).node_id(), relay(3).node_id()};
}

TEST_F(AuthorityDriverTest, ThreeAuthoritiesPublishTheSameConsensusWithThreeSignatures) {
  start({1, 2, 3});
  run_period();
  ASSERT_FALSE(node(1).published.empty());
  const std::vector<std::uint8_t>& reference = node(1).published[0].bytes;
  for (int n = 1; n <= kAuthorities; ++n) {
    ASSERT_EQ(node(n).published.size(), 1u) << "authority " << n;
    EXPECT_EQ(node(n).published[0].period, kQ);
    EXPECT_EQ(node(n).published[0].at, kPublishAt) << "authority " << n;
    EXPECT_EQ(node(n).published[0].bytes, reference) << "authority " << n;
    EXPECT_EQ(node(n).held.held_period(), kQ);
    EXPECT_EQ(node(n).driver.counters().votes_delivered, 2u);
    EXPECT_EQ(node(n).driver.counters().signatures_delivered, 2u);
    // Section 5.7: the vote stored at T − 4u before it was pushed, then the
    // consensus when computed at T − 3u (then any signature pulled).
    using Saved = std::pair<std::uint64_t, std::uint64_t>;
    ASSERT_GE(node(n).saved.size(), 2u);
    EXPECT_EQ(node(n).saved[0], Saved(kQ, kVoteAt));
    EXPECT_EQ(node(n).saved[1], Saved(kQ, kT - 3 * kU)) << "authority " << n;
    // The sweep for q pruned below q − 2 (section 5.7), in the state and by the handler.
    EXPECT_EQ(node(n).pruned, std::vector<std::uint64_t>{kQ - 2}) << "authority " << n;
  }
  // Any node accepts it, with three valid signatures; the relays that failed
  // the sweep (4 refused, 5 silent) are in no vote, so not listed.
  auto verified = document::verify_consensus(reference, trust(), std::nullopt, kPublishAt);
  ASSERT_TRUE(verified) << verified.error().error.message;
  EXPECT_EQ(verified->valid_signatures, 3u);
  EXPECT_EQ(listed(*verified), reachable_relays());

  // The silent relay was given up after min(u/2, 10 s) = 1 s, within the sweep.
  for (const auto& probe : node(1).prober.probes()) {
    ASSERT_TRUE(probe.ended.has_value());
    EXPECT_GE(probe.started, std::chrono::seconds(kT - 5 * kU));
    EXPECT_LE(*probe.ended, std::chrono::seconds(kVoteAt));
    if (probe.link_key == relay(kSilentRelay).link_key) {
      EXPECT_EQ(*probe.ended - probe.started, 1s);
    }
  }
  EXPECT_EQ(node(1).prober.probes().size(), static_cast<std::size_t>(kRelays));

  EXPECT_TRUE(node(1).metric("nyx_authority_reachability_checks_total{result=\"ok\"} 3"));
  EXPECT_TRUE(node(1).metric("nyx_authority_reachability_checks_total{result=\"failed\"} 2"));
  EXPECT_TRUE(node(1).metric("nyx_authority_descriptors{state=\"accepted\"} 5"));
  EXPECT_TRUE(node(1).metric("nyx_authority_descriptors{state=\"reachable\"} 3"));
  EXPECT_TRUE(node(1).metric("nyx_authority_consensus_total{result=\"published\"} 1"));
  EXPECT_TRUE(node(1).metric("nyx_directory_authorities_reachable 3"));

  const std::string text = log_text();
  EXPECT_EQ(count(text, fmt::format("authority: vote for {} sent to 2/2 authorities: 3 relays "
                                    "(3 new, 2 unreachable)",
                                    kWhen)),
            3u)
      << text;
  EXPECT_EQ(count(text, fmt::format("authority: consensus for {} computed from 3 votes: 3 "
                                    "relays, digest ",
                                    kWhen)),
            3u)
      << text;
  EXPECT_EQ(
      count(text, fmt::format("authority: consensus for {} published with 3/3 signatures", kWhen)),
      3u)
      << text;
}

TEST_F(AuthorityDriverTest, OneAuthorityDownTheOtherTwoPublishWithTwoSignaturesOnTime) {
  start({1, 3});
  run_period();
  ASSERT_EQ(node(1).published.size(), 1u);
  ASSERT_EQ(node(3).published.size(), 1u);
  EXPECT_EQ(node(1).published[0].bytes, node(3).published[0].bytes);
  // The requests to authority 2 hung until their windows closed, side by
  // side with the others: publication is still at T − 2u.
  EXPECT_EQ(node(1).published[0].at, kPublishAt);
  EXPECT_EQ(node(3).published[0].at, kPublishAt);
  auto verified =
      document::verify_consensus(node(1).published[0].bytes, trust(), std::nullopt, kPublishAt);
  ASSERT_TRUE(verified) << verified.error().error.message;
  EXPECT_EQ(verified->valid_signatures, 2u);
  EXPECT_EQ(listed(*verified), reachable_relays());
  // No hot loop: each authority asked the dead one at most once per step
  // (POST_VOTE, GET_VOTE, POST_SIGNATURE, GET_SIGNATURES), each request
  // bounded by its window.
  EXPECT_LE(network_.opened[authority_link(2)], 8);
  EXPECT_GE(node(1).driver.counters().requests_failed, 1u);
  EXPECT_TRUE(node(1).metric("nyx_directory_authorities_reachable 2"));

  const std::string text = log_text();
  EXPECT_EQ(count(text, fmt::format("authority: vote for {} sent to 1/2 authorities", kWhen)), 2u)
      << text;
  EXPECT_EQ(
      count(text, fmt::format("authority: consensus for {} published with 2/3 signatures", kWhen)),
      2u)
      << text;
}

TEST_F(AuthorityDriverTest, TwoAuthoritiesDownNothingIsPublishedAndTheSurvivorSaysWhy) {
  start({2});
  run_period();
  EXPECT_TRUE(node(2).published.empty());
  EXPECT_FALSE(node(2).held.held_period().has_value());
  EXPECT_EQ(node(2).driver.counters().consensuses_computed, 0u);
  EXPECT_TRUE(node(2).metric("nyx_authority_consensus_total{result=\"too_few_votes\"} 1"));
  EXPECT_TRUE(node(2).metric("nyx_authority_consensus_total{result=\"published\"} 0"));
  EXPECT_TRUE(node(2).metric("nyx_directory_authorities_reachable 1"));

  const std::string missing = crypto::to_hex(Bytes(test::authority_key(1).public_key).first(4)) +
                              ", " +
                              crypto::to_hex(Bytes(test::authority_key(3).public_key).first(4));
  const std::string text = log_text();
  EXPECT_EQ(count(text, fmt::format("authority: no consensus for {}: votes from 1 of 3 "
                                    "authorities, 2 needed (missing: {})",
                                    kWhen, missing)),
            1u)
      << text;
  EXPECT_EQ(count(text, "published with"), 0u) << text;
}

TEST_F(AuthorityDriverTest, AVoteAndASignatureWhosePushesAreLostArePulled) {
  start({1, 2, 3});
  // Authority 1 loses every POST from authority 3.
  node(1).requests.lose_posts_from.insert(authority_link(3));
  run_period();
  // 3's vote came by GET_VOTE at T − 3.5u, its signature by GET_SIGNATURES
  // at T − 2.5u: authority 1 publishes the same consensus with 3/3.
  EXPECT_EQ(node(1).driver.counters().votes_pulled, 1u);
  EXPECT_GE(node(1).driver.counters().signatures_pulled, 1u);
  ASSERT_EQ(node(1).published.size(), 1u);
  ASSERT_EQ(node(2).published.size(), 1u);
  EXPECT_EQ(node(1).published[0].bytes, node(2).published[0].bytes);
  auto verified =
      document::verify_consensus(node(1).published[0].bytes, trust(), std::nullopt, kPublishAt);
  ASSERT_TRUE(verified) << verified.error().error.message;
  EXPECT_EQ(verified->valid_signatures, 3u);
  // Authority 3 counted 1 of 2 deliveries, and did not retry a BUSY that
  // reached past the window.
  EXPECT_EQ(node(3).driver.counters().votes_delivered, 1u);
  EXPECT_EQ(node(3).driver.counters().signatures_delivered, 1u);
}

TEST_F(AuthorityDriverTest, AnAuthorityRestartedAfterTheComputeStepStillSignsAndPublishes) {
  // Authority 3 is down; 1 and 2 exchange their votes at T − 4u, then 1
  // goes down just before T − 3u, so only 2 computes and signs (1 of t = 2).
  start({1, 2});
  test::run_for(io_, timers_, std::chrono::seconds(kT - 3 * kU - 1) - clock_.now());
  ASSERT_EQ(node(1).state.votes(kQ).size(), 2u);
  node(1).driver.stop();
  std::size_t running = 1;
  async::spawn(io_.get_executor(), count_down_when_stopped(node(1).driver, running),
               "wait_stopped");
  ASSERT_TRUE(test::run_until(
      io_, [&] { return running == 0; }, 5s));
  // It comes back at T − 2.5u with its state (what its store restores),
  // past the step that computes.
  test::run_for(io_, timers_, std::chrono::seconds(kT - 5 * kU / 2) - clock_.now());
  ASSERT_EQ(node(1).state.consensus(kQ), nullptr);
  AuthorityDriver restarted(io_.get_executor(), clock_, timers_, node(1).state, node(1).requester,
                            node(1).prober, peers_of(1));
  std::vector<std::uint64_t> published_after_restart;
  restarted.set_publish_handler(
      [&](std::uint64_t q, SharedDocument) { published_after_restart.push_back(q); });
  restarted.start();
  run_period();
  // It computed the consensus the clock still allowed and signed it: both publish with 2/2.
  EXPECT_EQ(published_after_restart, std::vector<std::uint64_t>{kQ});
  ASSERT_EQ(node(2).published.size(), 1u);
  auto verified =
      document::verify_consensus(node(2).published[0].bytes, trust(), std::nullopt, kPublishAt);
  ASSERT_TRUE(verified) << verified.error().error.message;
  EXPECT_EQ(verified->valid_signatures, 2u);
  restarted.stop();
  running = 1;
  async::spawn(io_.get_executor(), count_down_when_stopped(restarted, running), "wait_stopped");
  EXPECT_TRUE(test::run_until(
      io_, [&] { return running == 0; }, 5s));
}

TEST_F(AuthorityDriverTest, StopEndsHangingRequestsAtOnce) {
  start({1});
  // Just after T − 4u: the vote's pushes to the two dead authorities hang.
  test::run_for(io_, timers_, std::chrono::seconds(kVoteAt) + 500ms - clock_.now());
  ASSERT_EQ(node(1).driver.counters().votes_made, 1u);
  ASSERT_GE(network_.opened[authority_link(2)], 1);
  const Nanos stopped_at = clock_.now();
  ASSERT_TRUE(stop_all());
  EXPECT_EQ(clock_.now(), stopped_at);  // no simulated time was needed
  EXPECT_TRUE(node(1).published.empty());
}

}  // namespace
}  // namespace nyx::daemon
