// AuthorityState (proposal 0002 sections 5.1 to 5.8): three authorities
// driven in memory through a whole period at P = 24 s, in simulated time.
// They publish byte-identical consensuses whatever order the votes arrive
// in; one down of three still publishes, two down publish nothing; votes
// and descriptors that break a rule are refused with their reason; a
// restart re-pushes the stored vote instead of making a second one.
#include "document/authority_state.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "document/support/authority_timeline.hpp"
#include "document/support/voting_fixtures.hpp"
#include "document/verify_consensus.hpp"

namespace nyx::document {
namespace {

using namespace test::authority_timeline;

constexpr std::uint64_t kSkew = 1;
constexpr int kAuthorities = 3;

const Period& period() {
  static const Period p = *Period::from_seconds(kP);
  return p;
}

const crypto::X25519PublicKey kStrangerLink = test::authority_timeline::stranger_link();

AuthorityConfig config() {
  AuthorityConfig c{.period = period(), .clock_skew = kSkew, .authorities = {}};
  for (int n = 1; n <= kAuthorities; ++n) {
    c.authorities.push_back({test::authority_key(n).public_key, authority_link(n)});
  }
  return c;
}

AuthorityState authority(int n) {
  auto state = AuthorityState::make(config(), test::authority_key(n));
  EXPECT_TRUE(state) << state.error().to_string();
  return std::move(*state);
}

// Relay n's descriptor for epoch q, signed `published` seconds.
SignedDescriptor relay(int n, std::uint64_t published = kUploadAt, std::uint64_t q = kQ) {
  SignedDescriptor d = test::relay_descriptor(n, q);
  d.published = published;
  EXPECT_TRUE(d.sign(test::relay_identity(n)));
  return d;
}

std::vector<std::uint8_t> bytes_of(const SignedDescriptor& d) { return *d.encode(); }

std::vector<ProbeResult> reached(const SignedDescriptor& d) {
  return {{d.udp_address, LinkTransport::kUdp, true, ""}};
}

// Uploads relay d to `a` at `now`, every address reached.
AuthorityOutcome<std::uint64_t> upload(AuthorityState& a, const SignedDescriptor& d,
                                       std::uint64_t now = kUploadAt) {
  const auto bytes = bytes_of(d);
  auto screened = a.screen_descriptor(bytes, d.link_key, now);
  if (!screened) {
    return std::unexpected(screened.error());
  }
  return a.admit_descriptor(*screened, reached(d), now);
}

// One period for the authorities in `up` (1-based numbers): relays 1 to 4
// upload to each; the sweep reaches all of them except relay 4 at
// authorities 1 and 2; each votes; the votes and then the signatures are
// delivered in `vote_order` (pairs from, to). Returns what each publishes.
using Delivery = std::vector<std::pair<int, int>>;

std::map<int, Result<std::vector<std::uint8_t>>> run_period(std::map<int, AuthorityState>& up,
                                                            Delivery order) {
  for (auto& [n, a] : up) {
    for (int r = 1; r <= 4; ++r) {
      EXPECT_TRUE(upload(a, relay(r)));
    }
  }
  for (auto& [n, a] : up) {
    for (const SweepTarget& target : a.sweep_targets(kQ)) {
      const bool fails = target.node_id == relay(4).node_id() && n != 3;
      std::vector<ProbeResult> probes;
      for (const AdvertisedAddress& advertised : target.addresses) {
        probes.push_back(
            {advertised.address, advertised.transport, !fails, fails ? "timeout after 2 s" : ""});
      }
      a.record_sweep(kQ, target.node_id, probes);
    }
  }
  std::map<int, std::vector<std::uint8_t>> votes;
  for (auto& [n, a] : up) {
    auto vote = a.make_vote(kQ, kVoteAt);
    EXPECT_TRUE(vote) << vote.error().to_string();
    votes[n] = test::encoded(*vote);
  }
  for (auto [from, to] : order) {
    if (up.contains(from) && up.contains(to)) {
      auto accepted = up.at(to).accept_vote(votes[from], authority_link(from), kVoteAt + 1);
      EXPECT_TRUE(accepted) << accepted.error().message;
    }
  }
  std::map<int, std::array<std::uint8_t, kSignatureMessageSize>> signatures;
  for (auto& [n, a] : up) {
    if (auto message = a.compute(kQ, kComputeAt)) {
      signatures[n] = *message->encode();
    }
  }
  for (auto [from, to] : order) {
    if (signatures.contains(from) && up.contains(to)) {
      auto accepted =
          up.at(to).accept_signature(signatures[from], authority_link(from), kComputeAt + 1);
      EXPECT_TRUE(accepted) << accepted.error().message;
    }
  }
  std::map<int, Result<std::vector<std::uint8_t>>> published;
  for (auto& [n, a] : up) {
    published.emplace(n, a.publishable(kQ, kPublishAt));
  }
  return published;
}

std::map<int, AuthorityState> authorities(std::initializer_list<int> numbers) {
  std::map<int, AuthorityState> out;
  for (int n : numbers) {
    out.emplace(n, authority(n));
  }
  return out;
}

Delivery all_pairs() {
  Delivery out;
  for (int from = 1; from <= kAuthorities; ++from) {
    for (int to = 1; to <= kAuthorities; ++to) {
      if (from != to) {
        out.emplace_back(from, to);
      }
    }
  }
  return out;
}

ConsensusTrust trust() {
  std::vector<crypto::Ed25519PublicKey> keys;
  for (int n = 1; n <= kAuthorities; ++n) {
    keys.push_back(test::authority_key(n).public_key);
  }
  return *ConsensusTrust::make(keys, 0, period(), kSkew);
}

TEST(AuthorityState, ThreeAuthoritiesPublishOneConsensusWhateverTheOrderOfTheVotes) {
  std::vector<std::uint8_t> reference;
  std::mt19937 rng(13);
  for (int round = 0; round < 12; ++round) {
    Delivery order = all_pairs();
    std::shuffle(order.begin(), order.end(), rng);
    auto up = authorities({1, 2, 3});
    auto published = run_period(up, order);
    for (auto& [n, bytes] : published) {
      ASSERT_TRUE(bytes) << n << ": " << bytes.error().to_string();
      if (reference.empty()) {
        reference = *bytes;
      }
      EXPECT_EQ(*bytes, reference) << "authority " << n << " round " << round;
    }
  }
  // Any node accepts it: three valid signatures, held until valid_after.
  auto verified = verify_consensus(reference, trust(), std::nullopt, kPublishAt);
  ASSERT_TRUE(verified) << verified.error().error.message;
  EXPECT_EQ(verified->valid_signatures, 3u);
  EXPECT_EQ(verified->when, VerifiedConsensus::When::kPending);
  // Relays 1 to 3 in every vote; relay 4 passed only authority 3's sweep.
  std::set<NodeId> listed;
  for (const RelayEntry& entry : verified->consensus.entries) {
    listed.insert(entry.node_id());
  }
  EXPECT_EQ(listed, (std::set<NodeId>{relay(1).node_id(), relay(2).node_id(), relay(3).node_id()}));
}

TEST(AuthorityState, OneAuthorityDownOfThreeStillPublishes) {
  auto up = authorities({1, 3});
  auto published = run_period(up, all_pairs());
  for (auto& [n, bytes] : published) {
    ASSERT_TRUE(bytes) << n << ": " << bytes.error().to_string();
    EXPECT_EQ(*bytes, *published.at(1));
  }
  auto verified = verify_consensus(*published.at(1), trust(), std::nullopt, kPublishAt);
  ASSERT_TRUE(verified) << verified.error().error.message;
  EXPECT_EQ(verified->valid_signatures, 2u);
  EXPECT_EQ(up.at(1).missing_signatures(kQ),
            std::vector<crypto::Ed25519PublicKey>{test::authority_key(2).public_key});
}

TEST(AuthorityState, TwoAuthoritiesDownMakeNoConsensus) {
  auto up = authorities({2});
  auto published = run_period(up, all_pairs());
  ASSERT_FALSE(published.at(2));
  auto computed = up.at(2).compute(kQ, kComputeAt);
  ASSERT_FALSE(computed);
  EXPECT_EQ(computed.error().message, "too few votes: 1 of 3, 2 needed");
  EXPECT_EQ(up.at(2).missing_votes(kQ).size(), 2u);
}

TEST(AuthorityState, BelowTheThresholdNothingIsPublishedAndTheMissingAreNamed) {
  // Authority 1 holds two votes but no other signature arrives.
  AuthorityState other = authority(2);
  AuthorityState a = authority(1);
  ASSERT_TRUE(upload(a, relay(1)));
  a.record_sweep(kQ, relay(1).node_id(), reached(relay(1)));
  auto vote = a.make_vote(kQ, kVoteAt);
  ASSERT_TRUE(vote);
  ASSERT_TRUE(
      a.accept_vote(test::encoded(*other.make_vote(kQ, kVoteAt)), authority_link(2), kVoteAt + 1));
  ASSERT_TRUE(a.compute(kQ, kComputeAt));
  auto early = a.publishable(kQ, kPublishAt - 1);
  EXPECT_FALSE(early);
  auto published = a.publishable(kQ, kPublishAt);
  ASSERT_FALSE(published);
  EXPECT_NE(published.error().message.find("1 of 2 signatures needed"), std::string::npos)
      << published.error().message;
}

TEST(AuthorityState, VotesThatBreakARuleAreRefusedWithTheirReason) {
  AuthorityState a = authority(1);
  const auto vote2 = test::encoded(test::signed_vote(2, {}, kQ, kP));
  // From a stranger's link, before anything else is looked at.
  auto stranger = a.accept_vote(vote2, kStrangerLink, kVoteAt);
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().reason, AuthorityRefusalReason::kNotAuthority);
  // Signed by a key that is not a configured authority.
  auto unknown =
      a.accept_vote(test::encoded(test::signed_vote(9, {}, kQ, kP)), authority_link(2), kVoteAt);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().reason, AuthorityRefusalReason::kUnknownVoter);
  // For another period, and for this one after the vote deadline.
  auto other = a.accept_vote(test::encoded(test::signed_vote(2, {}, kQ + 1, kP)), authority_link(2),
                             kVoteAt);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().reason, AuthorityRefusalReason::kWrongEpoch);
  auto late = a.accept_vote(vote2, authority_link(2), kComputeAt);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().reason, AuthorityRefusalReason::kWrongEpoch);
  auto too_early = a.accept_vote(vote2, authority_link(2), kSweepAt - 1);
  ASSERT_FALSE(too_early);
  EXPECT_EQ(too_early.error().reason, AuthorityRefusalReason::kWrongEpoch);
  // A signature that does not verify.
  auto forged = vote2;
  forged.back() ^= 1;
  auto bad = a.accept_vote(forged, authority_link(2), kVoteAt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, AuthorityRefusalReason::kBadSignature);
  // Garbage.
  auto garbage =
      a.accept_vote(std::vector<std::uint8_t>{'N', 'Y', 'X'}, authority_link(2), kVoteAt);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().reason, AuthorityRefusalReason::kMalformed);
  EXPECT_EQ(a.missing_votes(kQ).size(), 3u);  // nothing was held
}

TEST(AuthorityState, ASecondVoteByOneAuthorityIsEquivocationAndDiscardsBoth) {
  AuthorityState a = authority(1);
  const auto first = test::encoded(test::signed_vote(2, {}, kQ, kP));
  ASSERT_EQ(a.accept_vote(first, authority_link(2), kVoteAt), VoteAccepted::kNew);
  // The same vote again (a retried push, or a pull) is harmless.
  ASSERT_EQ(a.accept_vote(first, authority_link(3), kVoteAt), VoteAccepted::kAlreadyHeld);
  Vote other = test::signed_vote(2, {}, kQ, kP);
  other.entries.push_back(*RelayEntry::from_descriptor(7, relay(1)));
  ASSERT_TRUE(other.sign(test::authority_key(2)));
  auto equivocation = a.accept_vote(test::encoded(other), authority_link(2), kVoteAt + 1);
  ASSERT_FALSE(equivocation);
  EXPECT_EQ(equivocation.error().reason, AuthorityRefusalReason::kEquivocation);
  EXPECT_TRUE(a.votes(kQ).empty());  // both discarded
  // Detected once: later votes from it are refused as a known equivocator,
  // so whoever counts equivocations counts this one once.
  auto again = a.accept_vote(first, authority_link(2), kVoteAt + 1);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, AuthorityRefusalReason::kKnownEquivocator);
}

TEST(AuthorityState, DescriptorsThatBreakARuleAreRefusedWithTheirReason) {
  AuthorityState a = authority(1);
  const SignedDescriptor d = relay(1);
  auto bytes = bytes_of(d);
  // A bad signature: the last byte of the signature flipped.
  auto forged = bytes;
  forged.back() ^= 1;
  auto bad = a.screen_descriptor(forged, d.link_key, kUploadAt);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, AuthorityRefusalReason::kBadSignature);
  // Over another link than its own.
  auto other_link = a.screen_descriptor(bytes, kStrangerLink, kUploadAt);
  ASSERT_FALSE(other_link);
  EXPECT_EQ(other_link.error().reason, AuthorityRefusalReason::kNotAllowed);
  // Truncated.
  auto truncated = a.screen_descriptor(Bytes(bytes).first(100), d.link_key, kUploadAt);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().reason, AuthorityRefusalReason::kMalformed);
  // For the next epoch while this one is open: refused, naming the open one.
  auto next = a.screen_descriptor(bytes_of(relay(1, kUploadAt, kQ + 1)), d.link_key, kUploadAt);
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().reason, AuthorityRefusalReason::kWrongEpoch);
  EXPECT_EQ(next.error().open_epoch, kQ);
  // Published more than S ahead of the authority's clock.
  auto ahead =
      a.screen_descriptor(bytes_of(relay(1, kUploadAt + kSkew + 1)), d.link_key, kUploadAt);
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error().reason, AuthorityRefusalReason::kClock);
  // Unreachable on its address: refused, naming it.
  auto screened = a.screen_descriptor(bytes, d.link_key, kUploadAt);
  ASSERT_TRUE(screened);
  const std::vector<ProbeResult> failed = {
      {d.udp_address, LinkTransport::kUdp, false, "timeout after 10 s"}};
  auto unreachable = a.admit_descriptor(*screened, failed, kUploadAt);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().reason, AuthorityRefusalReason::kUnreachable);
  EXPECT_EQ(unreachable.error().message, "udp " + d.udp_address.to_text() + ": timeout after 10 s");
  EXPECT_EQ(a.descriptor(kQ, d.node_id()), nullptr);
}

TEST(AuthorityState, ANewerDescriptorReplacesAnOlderOneAndTheSameIsIdempotent) {
  AuthorityState a = authority(1);
  ASSERT_EQ(upload(a, relay(1, kUploadAt)), kQ);
  auto same = a.screen_descriptor(bytes_of(relay(1, kUploadAt)), relay(1).link_key, kUploadAt);
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->already_held);  // OK at once, without probing again
  auto older = upload(a, relay(1, kUploadAt - 1), kUploadAt + 5);
  ASSERT_FALSE(older);
  EXPECT_EQ(older.error().reason, AuthorityRefusalReason::kStale);
  ASSERT_EQ(upload(a, relay(1, kUploadAt + 5), kUploadAt + 5), kQ);
  EXPECT_EQ(a.descriptor(kQ, relay(1).node_id())->published, kUploadAt + 5);
  EXPECT_EQ(a.sweep_targets(kQ).size(), 1u);
}

// Relay n advertising one ip:port for both UDP and TCP.
SignedDescriptor same_address_relay(int n) {
  SignedDescriptor d = test::relay_descriptor(n, kQ);
  d.published = kUploadAt;
  d.tcp_address = d.udp_address;
  EXPECT_TRUE(d.sign(test::relay_identity(n)));
  return d;
}

// The UDP probe of `d` reached; the TCP probe of the same ip:port `tcp_reached` or refused.
std::vector<ProbeResult> udp_reached_tcp(const SignedDescriptor& d, bool tcp_reached) {
  return {
      {d.udp_address, LinkTransport::kUdp, true, ""},
      {d.tcp_address, LinkTransport::kTcp, tcp_reached, tcp_reached ? "" : "handshake refused"}};
}

TEST(AuthorityState, AProbeCountsOnlyForTheAddressOfItsOwnTransport) {
  AuthorityState a = authority(1);
  const SignedDescriptor d = same_address_relay(1);
  const auto bytes = bytes_of(d);
  auto screened = a.screen_descriptor(bytes, d.link_key, kUploadAt);
  ASSERT_TRUE(screened);
  EXPECT_EQ(screened->addresses(),
            (std::vector<AdvertisedAddress>{{LinkTransport::kUdp, d.udp_address},
                                            {LinkTransport::kTcp, d.udp_address}}));
  // The reached UDP handshake does not stand in for the TCP one on the same ip:port.
  auto refused = a.admit_descriptor(*screened, udp_reached_tcp(d, false), kUploadAt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, AuthorityRefusalReason::kUnreachable);
  EXPECT_EQ(refused.error().message, "tcp " + d.tcp_address.to_text() + ": handshake refused");
  auto unprobed = a.admit_descriptor(*screened, reached(d), kUploadAt);
  ASSERT_FALSE(unprobed);
  EXPECT_EQ(unprobed.error().message, "tcp " + d.tcp_address.to_text() + ": not probed");
  EXPECT_EQ(a.descriptor(kQ, d.node_id()), nullptr);

  // In the sweep likewise: relay 1 reached over UDP only is left out of the
  // vote; relay 2, reached over both, is in it.
  const SignedDescriptor both = same_address_relay(2);
  ASSERT_EQ(a.admit_descriptor(*screened, udp_reached_tcp(d, true), kUploadAt), kQ);
  auto screened2 = a.screen_descriptor(bytes_of(both), both.link_key, kUploadAt);
  ASSERT_TRUE(screened2);
  ASSERT_EQ(a.admit_descriptor(*screened2, udp_reached_tcp(both, true), kUploadAt), kQ);
  a.record_sweep(kQ, d.node_id(), udp_reached_tcp(d, false));
  a.record_sweep(kQ, both.node_id(), udp_reached_tcp(both, true));
  auto vote = a.make_vote(kQ, kVoteAt);
  ASSERT_TRUE(vote) << vote.error().to_string();
  ASSERT_EQ(vote->entries.size(), 1u);
  EXPECT_EQ(vote->entries[0].node_id(), both.node_id());
}

TEST(AuthorityState, PrivateAddressesAndTheRelayLimit) {
  SignedDescriptor local = test::relay_descriptor(1, kQ);
  local.published = kUploadAt;
  local.udp_address.ip = {127, 0, 0, 1};
  ASSERT_TRUE(local.sign(test::relay_identity(1)));
  AuthorityState strict = authority(1);
  auto refused = upload(strict, local);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, AuthorityRefusalReason::kNotAllowed);

  AuthorityConfig testnet = config();
  testnet.allow_private_addresses = true;
  testnet.max_relays = 2;
  auto a = *AuthorityState::make(testnet, test::authority_key(1));
  EXPECT_TRUE(upload(a, local));
  EXPECT_TRUE(upload(a, relay(2)));
  auto third = upload(a, relay(3));
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().reason, AuthorityRefusalReason::kLimit);
}

TEST(AuthorityState, TheVoteKeepsTwoRelaysPerAddressPreferringThoseListedBefore) {
  AuthorityState a = authority(1);
  std::vector<SignedDescriptor> relays;
  for (int n = 1; n <= 3; ++n) {
    SignedDescriptor d = test::relay_descriptor(n, kQ);
    d.published = kUploadAt;
    d.udp_address.ip = {198, 51, 7, 7};  // one address, three relays
    d.udp_address.port = static_cast<std::uint16_t>(9000 + n);
    ASSERT_TRUE(d.sign(test::relay_identity(n)));
    ASSERT_TRUE(upload(a, d));
    a.record_sweep(kQ, d.node_id(), reached(d));
    relays.push_back(d);
  }
  std::vector<NodeId> ids;
  for (const auto& d : relays) {
    ids.push_back(d.node_id());
  }
  std::sort(ids.begin(), ids.end());
  const NodeId listed_before[] = {ids[2]};
  auto vote = a.make_vote(kQ, kVoteAt, listed_before);
  ASSERT_TRUE(vote);
  ASSERT_EQ(vote->entries.size(), 2u);
  EXPECT_EQ(vote->entries[0].node_id(), ids[0]);
  EXPECT_EQ(vote->entries[1].node_id(), ids[2]);
}

TEST(AuthorityState, ASignatureOverAnotherBodyIsRefusedAndCounted) {
  AuthorityState a = authority(1);
  ASSERT_TRUE(upload(a, relay(1)));
  a.record_sweep(kQ, relay(1).node_id(), reached(relay(1)));
  ASSERT_TRUE(a.make_vote(kQ, kVoteAt));
  const Vote vote2 = test::signed_vote(2, {*RelayEntry::from_descriptor(100, relay(1))}, kQ, kP);
  ASSERT_TRUE(a.accept_vote(test::encoded(vote2), authority_link(2), kVoteAt));
  ASSERT_TRUE(a.compute(kQ, kComputeAt));
  ASSERT_EQ(a.consensus(kQ)->entries.size(), 1u);
  // Authority 3 signed a body without relay 1.
  Consensus other;
  other.period_seconds = kP;
  other.period = kQ;
  auto message = *SignatureMessage::make(other, test::authority_key(3));
  auto refused = a.accept_signature(*message.encode(), authority_link(3), kComputeAt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, AuthorityRefusalReason::kDifferentConsensus);
  // After T no signature is taken any more.
  auto late = *SignatureMessage::make(*a.consensus(kQ), test::authority_key(2));
  auto after = a.accept_signature(*late.encode(), authority_link(2), kT);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().reason, AuthorityRefusalReason::kWrongEpoch);
  EXPECT_EQ(a.accept_signature(*late.encode(), authority_link(2), kT - 1), 2u);
}

TEST(AuthorityState, ARestartRepushesTheStoredVoteAndNeverVotesTwice) {
  AuthorityState before = authority(1);
  ASSERT_TRUE(upload(before, relay(1)));
  before.record_sweep(kQ, relay(1).node_id(), reached(relay(1)));
  const auto vote = test::encoded(*before.make_vote(kQ, kVoteAt));
  const AuthoritySnapshot stored = before.snapshot(kQ);

  AuthorityState after = authority(1);
  ASSERT_TRUE(after.restore(stored));
  // The sweep is not restored, so a new vote would list nothing: the stored
  // one is what is pushed again.
  auto again = after.make_vote(kQ, kVoteAt + 1);
  ASSERT_TRUE(again);
  EXPECT_EQ(test::encoded(*again), vote);
  EXPECT_NE(after.descriptor(kQ, relay(1).node_id()), nullptr);
  // A vote deadline missed while down is not made up.
  AuthorityState late = authority(2);
  EXPECT_FALSE(late.make_vote(kQ, kComputeAt));
  // Old periods go.
  after.prune(kT + 3 * kP);
  EXPECT_EQ(after.descriptor(kQ, relay(1).node_id()), nullptr);
}

TEST(AuthorityState, ARestartServesTheStoredConsensusWithItsSignatures) {
  auto up = authorities({1, 2, 3});
  auto published = run_period(up, all_pairs());
  ASSERT_TRUE(published.at(1));
  AuthoritySnapshot stored = up.at(1).snapshot(kQ);
  ASSERT_TRUE(stored.consensus);
  EXPECT_EQ(stored.votes.size(), 3u);
  AuthorityState restarted = authority(1);
  ASSERT_TRUE(restarted.restore(stored));
  auto served = restarted.publishable(kQ, kPublishAt);
  ASSERT_TRUE(served) << served.error().to_string();
  EXPECT_EQ(*served, *published.at(1));
  // A stored vote that no longer verifies is not taken back.
  stored.votes.front().back() ^= 1;
  EXPECT_FALSE(authority(1).restore(stored));
}

TEST(AuthorityState, ConfigurationIsChecked) {
  EXPECT_FALSE(AuthorityState::make(config(), test::authority_key(9)));  // not configured
  AuthorityConfig low = config();
  low.threshold = 1;  // below a majority
  EXPECT_FALSE(AuthorityState::make(low, test::authority_key(1)));
  AuthorityConfig twice = config();
  twice.authorities.push_back(twice.authorities.front());
  EXPECT_FALSE(AuthorityState::make(twice, test::authority_key(1)));
}

}  // namespace
}  // namespace nyx::document
