// The directory client's core (proposal 0002 sections 4.5 and 6.1 to 6.5) in
// simulated time: bootstrap from nothing, the 6.2 fetch windows, the
// freshness table's refusals as a fetch sees them (issue 13: an older but
// still valid consensus is refused), per-source back-off, keeping the last
// consensus until it expires with every source down, switching to a pending
// one, and the data directory's files across a restart.
#include "document/consensus_tracker.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "document/support/voting_fixtures.hpp"

namespace nyx::document {
namespace {

using test::kQ;
using test::kValidAfter;
using Kind = FetchOutcome::Kind;
using Reason = ConsensusRefusalReason;
using SourceKind = DirectorySource::Kind;

constexpr std::uint64_t kP = test::kPeriodSeconds;
constexpr std::uint64_t kUnit = kP / 12;
constexpr std::uint64_t kSkew = 300;
constexpr std::uint64_t kNow = kValidAfter + 100;  // consensus kQ is in force
constexpr std::uint64_t kFreshUntil = kValidAfter + kP;
constexpr std::uint64_t kValidUntil = kValidAfter + 2 * kP;

// Always the lowest or always the highest value of a draw, so a test can put
// a fetch at either end of its window.
class PinnedRandom final : public FetchRandom {
 public:
  bool highest = false;
  std::uint64_t uniform(std::uint64_t bound) override {
    return highest && bound > 0 ? bound - 1 : 0;
  }
};

crypto::X25519PublicKey link(std::uint8_t tag, int n) {
  crypto::X25519PublicKey key{};
  key[0] = tag;
  key[1] = static_cast<std::uint8_t>(n);
  return key;
}

DirectorySource source(SourceKind kind, std::uint8_t tag, int n) {
  DirectorySource out;
  out.kind = kind;
  out.link_key = link(tag, n);
  out.udp_address.kind = NodeAddress::Kind::kIpv4;
  out.udp_address.ip = {203, 0, tag, static_cast<std::uint8_t>(n)};
  out.udp_address.port = 9340;
  return out;
}

std::vector<DirectorySource> sources(SourceKind kind, std::uint8_t tag, int count) {
  std::vector<DirectorySource> out;
  for (int n = 1; n <= count; ++n) {
    out.push_back(source(kind, tag, n));
  }
  return out;
}

ConsensusTracker::Config config(DirectoryRole role = DirectoryRole::kClient, int authorities = 3,
                                int fallbacks = 2) {
  auto trust =
      ConsensusTrust::make({test::authority_key(1).public_key, test::authority_key(2).public_key,
                            test::authority_key(3).public_key},
                           0, *Period::from_seconds(kP), kSkew);
  EXPECT_TRUE(trust) << trust.error().to_string();
  return ConsensusTracker::Config{.trust = *trust,
                                  .role = role,
                                  .authorities = sources(SourceKind::kAuthority, 0xA0, authorities),
                                  .fallbacks = sources(SourceKind::kFallback, 0xF0, fallbacks),
                                  .own_link_key = std::nullopt};
}

// Consensus q listing relays 1 to 3 (descriptors for q), signed by `signers`.
std::vector<std::uint8_t> consensus_bytes(std::uint64_t q = kQ,
                                          const std::vector<int>& signers = {1, 2},
                                          std::uint32_t period_seconds = test::kPeriodSeconds) {
  std::vector<RelayEntry> entries;
  for (int n = 1; n <= 3; ++n) {
    entries.push_back(*RelayEntry::from_descriptor(static_cast<std::uint32_t>(n * 10),
                                                   test::relay_descriptor(n, q)));
  }
  return test::encoded(test::signed_consensus(entries, signers, q, period_seconds));
}

struct Node {
  explicit Node(ConsensusTracker::Config with = config()) : tracker(std::move(with), random) {}

  // Starts the fetch that step() says is due at `now`.
  FetchAttempt fetch(std::uint64_t now) {
    auto step = tracker.step(now);
    EXPECT_TRUE(step.fetch) << "no fetch at " << now << "; next at " << tracker.next_fetch_at();
    return step.fetch.value_or(FetchAttempt{});
  }
  FetchOutcome answer(const DirectoryReply& reply, std::uint64_t now) {
    auto outcome = tracker.on_reply(reply, now);
    EXPECT_TRUE(outcome) << outcome.error().to_string();
    return outcome.value_or(FetchOutcome{});
  }
  // Holds consensus q, fetched at `now` from the bootstrap list.
  void install(std::uint64_t now, std::uint64_t q = kQ) {
    fetch(now);
    ASSERT_EQ(answer(ConsensusReply{consensus_bytes(q)}, now).kind, Kind::kInstalled);
  }

  PinnedRandom random;  // before the tracker, which keeps a reference
  ConsensusTracker tracker;
};

void expect_refused(const FetchOutcome& outcome, Reason reason, const std::string& text) {
  EXPECT_EQ(outcome.kind, Kind::kConsensusRefused);
  ASSERT_TRUE(outcome.refusal);
  EXPECT_EQ(outcome.refusal->reason, reason) << outcome.refusal->error.message;
  EXPECT_EQ(outcome.refusal->error.message.rfind(text, 0), 0u) << outcome.refusal->error.message;
  EXPECT_FALSE(outcome.files_changed);
}

TEST(ConsensusTracker, BootstrapAsksTheFallbacksThenTheAuthoritiesWithBackOff) {
  Node node;
  node.tracker.load(std::nullopt, std::nullopt, kNow);
  EXPECT_EQ(node.tracker.freshness(kNow), ConsensusFreshness::kNone);
  EXPECT_EQ(node.tracker.consensus_for_paths(kNow), nullptr);

  std::vector<crypto::X25519PublicKey> asked;
  std::uint64_t now = kNow;
  for (std::uint64_t delay : {1u, 2u, 4u, 8u, 16u}) {
    const FetchAttempt attempt = node.fetch(now);
    EXPECT_EQ(attempt.request.have_period, 0u);
    EXPECT_EQ(attempt.deadline, now + kDirectoryReplyTimeoutSeconds);
    // One fetch each: two fallbacks, then three authorities.
    EXPECT_EQ(attempt.source.kind,
              asked.size() < 2 ? SourceKind::kFallback : SourceKind::kAuthority);
    EXPECT_EQ(std::count(asked.begin(), asked.end(), attempt.source.link_key), 0);
    asked.push_back(attempt.source.link_key);
    ASSERT_TRUE(node.tracker.on_failure(now));
    // Section 4.5: 1 s, doubling.
    EXPECT_FALSE(node.tracker.step(now + delay - 1).fetch);
    now += delay;
  }
}

TEST(ConsensusTracker, ANodeAsksItselfOnlyAsAnAuthority) {
  // The only authority of a network fetches the consensus it published
  // from itself.
  auto alone = config(DirectoryRole::kCache, 1, 0);
  alone.own_link_key = alone.authorities[0].link_key;
  Node authority(alone);
  authority.tracker.load(std::nullopt, std::nullopt, kNow);
  EXPECT_EQ(authority.fetch(kNow).source.link_key, alone.authorities[0].link_key);
  // As a cache listed in the consensus, a node never asks itself.
  auto cache = config(DirectoryRole::kCache, 1, 0);
  const auto listed = test::relay_descriptor(1, kQ).link_key;
  cache.own_link_key = listed;
  Node itself(cache);
  itself.tracker.load(std::nullopt, std::nullopt, kNow);
  itself.install(kNow);
  int from_caches = 0;
  for (std::uint64_t now = kNow; now < kNow + 4 * kP; ++now) {
    const auto step = itself.tracker.step(now);
    if (step.fetch) {
      EXPECT_NE(step.fetch->source.link_key, listed);
      from_caches += step.fetch->source.kind == SourceKind::kRelay ? 1 : 0;
      ASSERT_TRUE(itself.tracker.on_failure(now));
    }
  }
  EXPECT_GT(from_caches, 1);  // the other relays were asked, never this one
}

TEST(ConsensusTracker, AValidReplyIsHeldAndTheNextFetchFallsInTheWindow) {
  // Section 6.2 with F = fresh_until: a client in [F − u, F + 5u), a cache in
  // [F − 2u, F − u); the random draw picks where.
  struct Case {
    DirectoryRole role;
    bool highest;
    std::uint64_t at;
    SourceKind from;
  };
  for (const Case& c :
       {Case{DirectoryRole::kClient, false, kFreshUntil - kUnit, SourceKind::kRelay},
        Case{DirectoryRole::kClient, true, kFreshUntil + 5 * kUnit - 1, SourceKind::kRelay},
        Case{DirectoryRole::kCache, false, kFreshUntil - 2 * kUnit, SourceKind::kAuthority},
        Case{DirectoryRole::kCache, true, kFreshUntil - kUnit - 1, SourceKind::kAuthority}}) {
    Node node(config(c.role));
    node.random.highest = c.highest;
    node.tracker.load(std::nullopt, std::nullopt, kNow);
    node.fetch(kNow);
    const FetchOutcome outcome = node.answer(ConsensusReply{consensus_bytes()}, kNow);
    EXPECT_EQ(outcome.kind, Kind::kInstalled);
    EXPECT_TRUE(outcome.files_changed);
    EXPECT_EQ(node.tracker.freshness(kNow), ConsensusFreshness::kFresh);
    ASSERT_NE(node.tracker.consensus_for_paths(kNow), nullptr);
    EXPECT_EQ(node.tracker.consensus_for_paths(kNow)->period, kQ);
    EXPECT_EQ(node.tracker.installed()->valid_signatures, 2u);
    EXPECT_EQ(node.tracker.next_fetch_at(), c.at);

    const StepReport before = node.tracker.step(c.at - 1);
    EXPECT_FALSE(before.fetch);
    EXPECT_EQ(before.wake_at, c.at);
    const FetchAttempt attempt = node.fetch(c.at);
    EXPECT_EQ(attempt.source.kind, c.from);
    EXPECT_EQ(attempt.request.have_period, kQ);
  }
}

TEST(ConsensusTracker, IssueThirteenAnOlderStillValidConsensusIsRefused) {
  Node node;
  node.tracker.load(std::nullopt, std::nullopt, kNow);
  node.install(kNow);
  const std::uint64_t at = node.tracker.next_fetch_at();
  const FetchAttempt attempt = node.fetch(at);
  // Consensus kQ − 1 is still valid at `at` (until T_{q+1}), and properly signed.
  expect_refused(node.answer(ConsensusReply{consensus_bytes(kQ - 1)}, at), Reason::kOlder,
                 "older than held: period 489999");
  EXPECT_EQ(node.tracker.installed()->consensus.period, kQ);
  EXPECT_FALSE(node.tracker.pending());
  EXPECT_EQ(*node.tracker.files().current, consensus_bytes());
  // That cache is not asked again before its back-off passes; another is.
  const FetchAttempt next = node.fetch(at + 1);
  EXPECT_NE(next.source.link_key, attempt.source.link_key);
  EXPECT_EQ(next.source.kind, SourceKind::kRelay);
}

// directory.offer's path: the same checks as a fetched reply, with no
// source to back off and no effect on a fetch in flight.
TEST(ConsensusTracker, AnOfferedConsensusIsCheckedAndHeldAsAFetchedOneIs) {
  Node node;
  node.tracker.load(std::nullopt, std::nullopt, kNow);
  EXPECT_EQ(node.tracker.offer(consensus_bytes(), kNow).kind, Kind::kInstalled);
  EXPECT_EQ(node.tracker.installed()->consensus.period, kQ);
  EXPECT_EQ(node.tracker.offer(consensus_bytes(), kNow).kind, Kind::kNotModified);
  const std::uint64_t at = node.tracker.next_fetch_at();
  const FetchAttempt attempt = node.fetch(at);
  expect_refused(node.tracker.offer(consensus_bytes(kQ - 1), at), Reason::kOlder,
                 "older than held: period 489999");
  EXPECT_EQ(node.tracker.installed()->consensus.period, kQ);
  EXPECT_TRUE(node.tracker.fetch_in_flight());
  // The fetch still in flight takes its reply as before.
  EXPECT_EQ(node.answer(ConsensusReply{consensus_bytes(kQ + 1)}, at).kind, Kind::kPending);
  EXPECT_EQ(attempt.source.kind, SourceKind::kRelay);
}

TEST(ConsensusTracker, EachRefusalHasItsReason) {
  struct Case {
    std::vector<std::uint8_t> bytes;
    std::uint64_t now;
    Reason reason;
    std::string text;
  };
  const std::uint64_t next_valid_after = kValidAfter + kP;
  const std::uint64_t earliest = next_valid_after - 2 * kUnit - kSkew;  // check 6 with the skew
  std::vector<std::uint8_t> truncated = consensus_bytes();
  truncated.pop_back();
  const std::vector<Case> cases = {
      {consensus_bytes(kQ - 2), kNow, Reason::kExpired, "expired at 2025-11-24T16:00:00Z"},
      {consensus_bytes(kQ + 1), kNow, Reason::kNotYetValid, "not yet valid: valid from"},
      // Beyond the skew by one second.
      {consensus_bytes(kQ + 1), earliest - 1, Reason::kNotYetValid, "not yet valid"},
      // A lifetime of 2·7200 s, beyond this node's bound of 2·3600 s.
      {consensus_bytes(kNow / 7200, {1, 2}, 7200), kNow, Reason::kWrongPeriod,
       "wrong period: 7200s (this node uses 3600s); lifetime would be 14400s, at most 7200s"},
      {consensus_bytes(kQ, {1}), kNow, Reason::kBelowThreshold,
       "below threshold: 1 of 2 configured authorities signed validly"},
      {consensus_bytes(kQ, {1, 7}), kNow, Reason::kBelowThreshold,
       "below threshold: 1 of 2 configured authorities signed validly (0 bad, 1 unknown keys)"},
      {truncated, kNow, Reason::kMalformed, "malformed: consensus"},
  };
  for (const Case& c : cases) {
    Node node;
    node.tracker.load(std::nullopt, std::nullopt, c.now);
    node.fetch(c.now);
    expect_refused(node.answer(ConsensusReply{c.bytes}, c.now), c.reason, c.text);
    EXPECT_FALSE(node.tracker.installed());
    EXPECT_FALSE(node.tracker.pending());
    EXPECT_FALSE(node.tracker.floor());
    EXPECT_EQ(node.tracker.next_fetch_at(), c.now + 1);  // another source, after the back-off
  }
  // At the edge of the skew the same consensus is held pending.
  Node node;
  node.tracker.load(std::nullopt, std::nullopt, earliest);
  node.fetch(earliest);
  EXPECT_EQ(node.answer(ConsensusReply{consensus_bytes(kQ + 1)}, earliest).kind, Kind::kPending);
}

TEST(ConsensusTracker, ServerAnswersThatBringNothingNew) {
  Node node;
  node.tracker.load(std::nullopt, std::nullopt, kNow);
  node.install(kNow);
  std::uint64_t at = node.tracker.next_fetch_at();

  // Each answer without news backs off 1 s, doubling, before the next attempt.
  node.fetch(at);
  EXPECT_EQ(node.answer(NotModifiedReply{}, at).kind, Kind::kNotModified);
  at += 1;
  node.fetch(at);
  // The period already held is dropped quietly, counted as not modified.
  const FetchOutcome same = node.answer(ConsensusReply{consensus_bytes()}, at);
  EXPECT_EQ(same.kind, Kind::kNotModified);
  EXPECT_FALSE(same.refusal);
  at += 2;
  EXPECT_EQ(node.fetch(at).source.kind, SourceKind::kRelay);
  EXPECT_EQ(node.answer(NotFoundReply{}, at).kind, Kind::kNotFound);
  // Three relays gave nothing: the client turns to the fallbacks.
  at += 4;
  EXPECT_EQ(node.fetch(at).source.kind, SourceKind::kFallback);
  const FetchOutcome refused =
      node.answer(RefusedReply{.reason = RefusalReason::kLimit, .message = "limit"}, at);
  EXPECT_EQ(refused.kind, Kind::kServerRefused);
  ASSERT_TRUE(refused.server_refusal);
  EXPECT_EQ(refused.server_refusal->reason, RefusalReason::kLimit);
  // A body that answers another request is a failure of that source.
  at += 8;
  EXPECT_FALSE(node.tracker.step(at - 1).fetch);
  node.fetch(at);
  EXPECT_EQ(node.answer(VoteReply{}, at).kind, Kind::kFailed);
  EXPECT_EQ(node.tracker.installed()->consensus.period, kQ);
  EXPECT_FALSE(node.tracker.on_reply(NotModifiedReply{}, at));  // nothing in flight
  EXPECT_FALSE(node.tracker.on_failure(at));
}

TEST(ConsensusTracker, AFailedSourceWaitsForItsBackOffAndBusyForRetryAfter) {
  // One fallback, one authority: a bootstrap with two sources.
  Node node(config(DirectoryRole::kClient, 1, 1));
  node.tracker.load(std::nullopt, std::nullopt, kNow);
  const FetchAttempt busy = node.fetch(kNow);
  EXPECT_EQ(busy.source.kind, SourceKind::kFallback);
  EXPECT_EQ(node.answer(BusyReply{.retry_after_seconds = 10}, kNow).kind, Kind::kBusy);
  // Attempts 1 s, 2 s, 4 s apart all go to the authority: the fallback is
  // not asked again before its retry_after, even when the authority has just
  // failed.
  for (std::uint64_t at : {kNow + 1, kNow + 3, kNow + 7}) {
    EXPECT_FALSE(node.tracker.step(at - 1).fetch);
    const FetchAttempt attempt = node.fetch(at);
    EXPECT_EQ(attempt.source.kind, SourceKind::kAuthority) << "at +" << at - kNow;
    ASSERT_TRUE(node.tracker.on_failure(at));
  }
  // Free again, and the authority failed last: the fallback's turn.
  EXPECT_FALSE(node.tracker.step(kNow + 14).fetch);
  EXPECT_EQ(node.fetch(kNow + 15).source.link_key, busy.source.link_key);
}

TEST(ConsensusTracker, WithEverySourceDownTheLastIsKeptUntilItExpires) {
  Node node;
  node.tracker.load(std::nullopt, std::nullopt, kNow);
  node.install(kNow);

  std::uint64_t now = kNow;
  std::uint64_t last_attempt = 0;
  bool saw_stale = false;
  while (now < kValidUntil) {
    const ConsensusFreshness freshness = node.tracker.freshness(now);
    EXPECT_EQ(freshness,
              now < kFreshUntil ? ConsensusFreshness::kFresh : ConsensusFreshness::kStaleButValid);
    saw_stale = saw_stale || freshness == ConsensusFreshness::kStaleButValid;
    ASSERT_NE(node.tracker.consensus_for_paths(now), nullptr);
    EXPECT_EQ(node.tracker.consensus_for_paths(now)->period, kQ);

    const StepReport step = node.tracker.step(now);
    if (step.fetch) {
      // Section 6.2: never an authority while the consensus has not expired;
      // within 2u of expiry, a retry every u/4 at most.
      EXPECT_NE(step.fetch->source.kind, SourceKind::kAuthority);
      if (last_attempt != 0 && node.tracker.expiring_soon(last_attempt)) {
        EXPECT_LE(now - last_attempt, kUnit / 4 + kDirectoryReplyTimeoutSeconds);
      }
      last_attempt = now;
      // No answer at all: the attempt times out.
    }
    ASSERT_GT(step.wake_at, now);
    now = step.wake_at;
  }
  EXPECT_TRUE(saw_stale);
  EXPECT_TRUE(node.tracker.expiring_soon(kValidUntil - 1));
  EXPECT_EQ(node.tracker.freshness(now), ConsensusFreshness::kExpired);
  EXPECT_EQ(node.tracker.consensus_for_paths(now), nullptr);
  // Still held, as the floor and in consensus.bin.
  EXPECT_EQ(node.tracker.floor(), kQ);
  EXPECT_EQ(*node.tracker.files().current, consensus_bytes());
  // Expired: the node bootstraps again, the authorities included.
  bool asked_authority = false;
  for (int i = 0; i < 10 && !asked_authority; ++i) {
    const StepReport step = node.tracker.step(now);
    if (step.fetch) {
      EXPECT_EQ(step.fetch->request.have_period, kQ);
      asked_authority = step.fetch->source.kind == SourceKind::kAuthority;
      ASSERT_TRUE(node.tracker.on_failure(now));
    }
    now = step.wake_at;
  }
  EXPECT_TRUE(asked_authority);
}

TEST(ConsensusTracker, APendingConsensusIsInstalledAtItsValidAfter) {
  Node node(config(DirectoryRole::kCache));
  node.tracker.load(std::nullopt, std::nullopt, kNow);
  node.install(kNow);
  const std::uint64_t at = node.tracker.next_fetch_at();  // F − 2u
  node.fetch(at);
  const FetchOutcome outcome = node.answer(ConsensusReply{consensus_bytes(kQ + 1)}, at);
  EXPECT_EQ(outcome.kind, Kind::kPending);
  EXPECT_TRUE(outcome.files_changed);
  EXPECT_EQ(*node.tracker.files().next, consensus_bytes(kQ + 1));
  // Section 6.5: paths come from the installed one, never the pending one.
  EXPECT_EQ(node.tracker.consensus_for_paths(at)->period, kQ);
  EXPECT_EQ(node.tracker.floor(), kQ + 1);

  const StepReport before = node.tracker.step(kFreshUntil - 1);
  EXPECT_FALSE(before.switched);
  EXPECT_EQ(before.wake_at, kFreshUntil);
  const StepReport at_valid_after = node.tracker.step(kFreshUntil);
  EXPECT_TRUE(at_valid_after.switched);
  EXPECT_TRUE(at_valid_after.files_changed);
  EXPECT_EQ(node.tracker.consensus_for_paths(kFreshUntil)->period, kQ + 1);
  EXPECT_EQ(*node.tracker.files().current, consensus_bytes(kQ + 1));
  EXPECT_FALSE(node.tracker.files().next);
  // The next fetch is for q + 2, in the window of consensus q + 1.
  EXPECT_EQ(node.tracker.next_fetch_at(), kFreshUntil + kP - 2 * kUnit);
}

TEST(ConsensusTracker, TheFilesRoundTripAcrossARestart) {
  Node before(config(DirectoryRole::kCache));
  before.tracker.load(std::nullopt, std::nullopt, kNow);
  before.install(kNow);
  const std::uint64_t at = before.tracker.next_fetch_at();
  before.fetch(at);
  ASSERT_EQ(before.answer(ConsensusReply{consensus_bytes(kQ + 1)}, at).kind, Kind::kPending);
  const ConsensusFiles files = before.tracker.files();
  ASSERT_TRUE(files.current && files.next);

  // Restarted before the pending one is due: both come back as they were.
  Node after(config(DirectoryRole::kCache));
  const LoadReport report = after.tracker.load(*files.current, *files.next, at + 5);
  EXPECT_FALSE(report.current_refused);
  EXPECT_FALSE(report.next_refused);
  EXPECT_FALSE(report.files_changed);
  EXPECT_EQ(after.tracker.installed()->consensus.period, kQ);
  EXPECT_EQ(after.tracker.pending()->consensus.period, kQ + 1);
  EXPECT_EQ(after.tracker.freshness(at + 5), ConsensusFreshness::kFresh);
  EXPECT_EQ(after.tracker.next_fetch_at(), kFreshUntil + kP - 2 * kUnit);

  // Restarted after its valid_after: the pending one is installed at once.
  Node later(config(DirectoryRole::kCache));
  const LoadReport installed = later.tracker.load(*files.current, *files.next, kFreshUntil + 10);
  EXPECT_TRUE(installed.files_changed);
  EXPECT_EQ(later.tracker.installed()->consensus.period, kQ + 1);
  EXPECT_FALSE(later.tracker.files().next);
}

TEST(ConsensusTracker, AConsensusThatExpiredWhileOffIsNotUsedButStaysTheFloor) {
  Node node;
  const LoadReport report = node.tracker.load(consensus_bytes(), std::nullopt, kValidUntil + 60);
  ASSERT_TRUE(report.current_refused);
  EXPECT_EQ(report.current_refused->reason, Reason::kExpired);
  EXPECT_EQ(node.tracker.freshness(kValidUntil + 60), ConsensusFreshness::kExpired);
  EXPECT_EQ(node.tracker.consensus_for_paths(kValidUntil + 60), nullptr);
  EXPECT_EQ(node.tracker.floor(), kQ);
  EXPECT_EQ(*node.tracker.files().current, consensus_bytes());  // kept until replaced
  // It bootstraps at once, asking for anything newer than kQ.
  const FetchAttempt attempt = node.fetch(kValidUntil + 60);
  EXPECT_EQ(attempt.source.kind, SourceKind::kFallback);
  EXPECT_EQ(attempt.request.have_period, kQ);

  // A file that is not a validly signed consensus sets no floor.
  Node damaged;
  const auto forged = consensus_bytes(kQ, {1});  // below threshold, and expired
  const LoadReport refused = damaged.tracker.load(forged, std::nullopt, kValidUntil + 60);
  ASSERT_TRUE(refused.current_refused);
  EXPECT_FALSE(damaged.tracker.floor());
  EXPECT_FALSE(damaged.tracker.installed());
  const LoadReport garbage =
      damaged.tracker.load(std::vector<std::uint8_t>{'N', 'Y', 'X'}, std::nullopt, kNow);
  EXPECT_EQ(garbage.current_refused->reason, Reason::kMalformed);
  EXPECT_FALSE(damaged.tracker.floor());
}

}  // namespace
}  // namespace nyx::document
