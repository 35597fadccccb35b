// HeldConsensusService::hold with real signed consensuses (proposal 0002
// sections 3.4, 5.6 and 6.3): a second copy of the period held is served
// only with the same body and strictly more valid signatures of configured
// authorities; another signed body for that period (authority equivocation)
// is refused; an older period never replaces a newer one; and what
// GET_CONSENSUS answers follows the copy held.
#include "daemon/directory_service.hpp"

#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <gtest/gtest.h>

#include "document/consensus.hpp"
#include "document/period.hpp"
#include "document/relay_entry.hpp"
#include "document/support/voting_fixtures.hpp"
#include "document/verify_consensus.hpp"

namespace nyx::daemon {
namespace {

using test::kQ;

// Authorities 1 to 3, a majority (2) needed.
document::ConsensusTrust trust() {
  auto made = document::ConsensusTrust::make(
      {test::authority_key(1).public_key, test::authority_key(2).public_key,
       test::authority_key(3).public_key},
      0, *document::Period::from_seconds(test::kPeriodSeconds), 300);
  EXPECT_TRUE(made) << made.error().to_string();
  return *made;
}

// Relays 1 to `relays`, with descriptors for period q: the body.
document::Consensus consensus(const std::vector<int>& signers, std::uint64_t q = kQ,
                              int relays = 3) {
  std::vector<document::RelayEntry> entries;
  for (int n = 1; n <= relays; ++n) {
    entries.push_back(*document::RelayEntry::from_descriptor(static_cast<std::uint32_t>(n * 10),
                                                             test::relay_descriptor(n, q)));
  }
  return test::signed_consensus(std::move(entries), signers, q);
}

SharedDocument shared(const document::Consensus& c) {
  return std::make_shared<const std::vector<std::uint8_t>>(test::encoded(c));
}

SharedDocument signed_by(const std::vector<int>& signers, std::uint64_t q = kQ, int relays = 3) {
  return shared(consensus(signers, q, relays));
}

// What GET_CONSENSUS with `have_period` is answered.
DirectoryAnswer get_consensus(HeldConsensusService& service, std::uint64_t have_period = 0) {
  asio::io_context io;
  const document::DirectoryRequest request =
      document::GetConsensusRequest{.have_period = have_period};
  std::optional<DirectoryAnswer> out;
  asio::co_spawn(io, service.answer(request, DirectoryRequestContext{}),
                 [&out](std::exception_ptr error, DirectoryAnswer answer) {
                   if (!error) {
                     out = std::move(answer);
                   }
                 });
  io.run();
  EXPECT_TRUE(out.has_value());
  return out ? std::move(*out) : DirectoryAnswer(document::DirectoryReply{});
}

// The buffer GET_CONSENSUS serves, or null for any other answer.
SharedDocument served(HeldConsensusService& service) {
  DirectoryAnswer answer = get_consensus(service);
  const auto* held = std::get_if<SharedDocument>(&answer);
  return held != nullptr ? *held : nullptr;
}

TEST(HeldConsensusServiceTest, SamePeriodWithMoreValidSignaturesIsServed) {
  HeldConsensusService service(trust());
  SharedDocument two = signed_by({1, 2});
  SharedDocument three = signed_by({1, 2, 3});
  ASSERT_EQ(service.hold(kQ, two), HoldOutcome::kHeld);
  EXPECT_EQ(service.held_signatures(), 2u);

  EXPECT_EQ(service.hold(kQ, three), HoldOutcome::kMoreSignatures);
  EXPECT_EQ(served(service), three);
  EXPECT_EQ(service.held_period(), kQ);
  EXPECT_EQ(service.held_signatures(), 3u);
  EXPECT_EQ(service.held_count(HoldOutcome::kMoreSignatures), 1u);
  // A client holding the period is still told nothing is newer.
  DirectoryAnswer same = get_consensus(service, kQ);
  const auto* reply = std::get_if<document::DirectoryReply>(&same);
  ASSERT_NE(reply, nullptr);
  EXPECT_TRUE(std::holds_alternative<document::NotModifiedReply>(*reply));
}

TEST(HeldConsensusServiceTest, SamePeriodWithEqualOrFewerValidSignaturesIsIgnored) {
  HeldConsensusService service(trust());
  SharedDocument first = signed_by({1, 2});
  ASSERT_EQ(service.hold(kQ, first), HoldOutcome::kHeld);

  // Equal: the same signers again, and another pair of them.
  EXPECT_EQ(service.hold(kQ, signed_by({1, 2})), HoldOutcome::kNoMoreSignatures);
  EXPECT_EQ(service.hold(kQ, signed_by({2, 3})), HoldOutcome::kNoMoreSignatures);
  EXPECT_EQ(served(service), first);

  // Fewer: three held, then two offered.
  SharedDocument three = signed_by({1, 2, 3});
  ASSERT_EQ(service.hold(kQ, three), HoldOutcome::kMoreSignatures);
  EXPECT_EQ(service.hold(kQ, signed_by({1, 3})), HoldOutcome::kNoMoreSignatures);
  EXPECT_EQ(served(service), three);
  EXPECT_EQ(service.held_count(HoldOutcome::kNoMoreSignatures), 3u);
}

TEST(HeldConsensusServiceTest, BadAndUnknownSignaturesDoNotCount) {
  HeldConsensusService service(trust());
  SharedDocument first = signed_by({1, 2});
  ASSERT_EQ(service.hold(kQ, first), HoldOutcome::kHeld);

  // Three signatures, but authority 3's is garbage: still two valid.
  document::Consensus forged = consensus({1, 2});
  ASSERT_TRUE(forged.add_signature(document::ConsensusSignature{
      .authority_key = test::authority_key(3).public_key, .signature = {}}));
  EXPECT_EQ(service.hold(kQ, shared(forged)), HoldOutcome::kNoMoreSignatures);

  // Three signatures that verify, but key 9 is no configured authority.
  document::Consensus unknown = consensus({1, 2});
  ASSERT_TRUE(unknown.sign(test::authority_key(9)));
  EXPECT_EQ(service.hold(kQ, shared(unknown)), HoldOutcome::kNoMoreSignatures);
  EXPECT_EQ(served(service), first);
}

TEST(HeldConsensusServiceTest, AnotherSignedBodyForTheHeldPeriodIsRefusedAsEquivocation) {
  HeldConsensusService service(trust());
  SharedDocument first = signed_by({1, 2});
  ASSERT_EQ(service.hold(kQ, first), HoldOutcome::kHeld);

  // Relay 3 left out: another body, signed by all three authorities.
  EXPECT_EQ(service.hold(kQ, signed_by({1, 2, 3}, kQ, 2)), HoldOutcome::kEquivocation);
  // Another weight for one relay: the same length, other bytes.
  document::Consensus reweighted = consensus({1});
  reweighted.entries[0] = reweighted.entries[0].with_weight(reweighted.entries[0].weight() + 1);
  reweighted.signatures.clear();
  for (int n : {1, 2, 3}) {
    ASSERT_TRUE(reweighted.sign(test::authority_key(n)));
  }
  EXPECT_EQ(service.hold(kQ, shared(reweighted)), HoldOutcome::kEquivocation);

  EXPECT_EQ(served(service), first);
  EXPECT_EQ(service.held_signatures(), 2u);
  EXPECT_EQ(service.held_count(HoldOutcome::kEquivocation), 2u);
}

TEST(HeldConsensusServiceTest, AnotherBodyBelowTheThresholdIsRefusedUnverified) {
  HeldConsensusService service(trust());
  SharedDocument first = signed_by({1, 2});
  ASSERT_EQ(service.hold(kQ, first), HoldOutcome::kHeld);
  EXPECT_EQ(service.hold(kQ, signed_by({3}, kQ, 2)), HoldOutcome::kUnverified);
  EXPECT_EQ(service.held_count(HoldOutcome::kEquivocation), 0u);
  EXPECT_EQ(served(service), first);
}

TEST(HeldConsensusServiceTest, OlderPeriodIsRefusedWhateverItsSignatures) {
  HeldConsensusService service(trust());
  SharedDocument newer = signed_by({1, 2}, kQ);
  ASSERT_EQ(service.hold(kQ, newer), HoldOutcome::kHeld);
  EXPECT_EQ(service.hold(kQ - 1, signed_by({1, 2, 3}, kQ - 1)), HoldOutcome::kOlder);
  EXPECT_EQ(served(service), newer);
  EXPECT_EQ(service.held_period(), kQ);

  SharedDocument next = signed_by({1, 2}, kQ + 1);
  EXPECT_EQ(service.hold(kQ + 1, next), HoldOutcome::kHeld);
  EXPECT_EQ(served(service), next);
}

TEST(HeldConsensusServiceTest, CopyThatDoesNotVerifyIsNeverServed) {
  HeldConsensusService service(trust());
  EXPECT_EQ(service.hold(kQ, signed_by({1})), HoldOutcome::kUnverified);             // 1 of 2
  EXPECT_EQ(service.hold(kQ, signed_by({1, 2}, kQ + 1)), HoldOutcome::kUnverified);  // mislabelled
  auto garbage = std::make_shared<const std::vector<std::uint8_t>>(64, 0xA5);
  EXPECT_EQ(service.hold(kQ, garbage), HoldOutcome::kUnverified);
  EXPECT_EQ(service.hold(kQ, nullptr), HoldOutcome::kUnverified);
  EXPECT_FALSE(service.held_period().has_value());
  EXPECT_EQ(served(service), nullptr);

  ASSERT_EQ(service.hold(kQ, signed_by({1, 2})), HoldOutcome::kHeld);
  // A copy of the period held, truncated: it does not parse.
  auto cut = std::make_shared<std::vector<std::uint8_t>>(*signed_by({1, 2, 3}));
  cut->pop_back();
  EXPECT_EQ(service.hold(kQ, cut), HoldOutcome::kUnverified);
  EXPECT_EQ(service.held_signatures(), 2u);
}

TEST(HeldConsensusServiceTest, WithoutTrustASecondCopyIsNeverTaken) {
  HeldConsensusService service;
  SharedDocument first = signed_by({1, 2});
  ASSERT_EQ(service.hold(kQ, first), HoldOutcome::kHeld);
  EXPECT_EQ(service.hold(kQ, signed_by({1, 2, 3})), HoldOutcome::kUnverified);
  EXPECT_EQ(served(service), first);
  EXPECT_FALSE(service.held_signatures().has_value());
}

}  // namespace
}  // namespace nyx::daemon
