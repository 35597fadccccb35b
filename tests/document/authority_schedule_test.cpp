// AuthoritySchedule (proposal 0002 sections 2.3 and 5.0 to 5.6): every step
// of the timeline at P = 24 s and P = 1 h, at, just before and just after
// each boundary; the windows for uploads, votes and signatures; a relay's
// upload time, retries and what it does when the two clocks straddle a
// deadline.
#include "document/authority_schedule.hpp"

#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace nyx::document {
namespace {

AuthoritySchedule schedule_of(std::uint64_t p) {
  return AuthoritySchedule(*Period::from_seconds(p));
}

constexpr std::uint64_t kQ = 490'000;

TEST(AuthoritySchedule, StepsAtTheOffsetsOfTheTimelineInTestMode) {
  const auto s = schedule_of(24);  // u = 2 s
  const std::uint64_t t = kQ * 24;
  EXPECT_EQ(s.at(AuthorityStep::kSweep, kQ), t - 10);
  EXPECT_EQ(s.at(AuthorityStep::kVote, kQ), t - 8);
  EXPECT_EQ(s.at(AuthorityStep::kPullVotes, kQ), t - 7);
  EXPECT_EQ(s.at(AuthorityStep::kCompute, kQ), t - 6);
  EXPECT_EQ(s.at(AuthorityStep::kPullSignatures, kQ), t - 5);
  EXPECT_EQ(s.at(AuthorityStep::kPublish, kQ), t - 4);
  EXPECT_EQ(s.at(AuthorityStep::kFetchPublished, kQ), t - 2);
  EXPECT_EQ(s.at(AuthorityStep::kInstall, kQ), t);
}

TEST(AuthoritySchedule, StepsAtTheOffsetsOfTheTimelineByDefault) {
  const auto s = schedule_of(3600);  // u = 300 s
  const std::uint64_t t = kQ * 3600;
  EXPECT_EQ(s.at(AuthorityStep::kSweep, kQ), t - 25 * 60);
  EXPECT_EQ(s.at(AuthorityStep::kVote, kQ), t - 20 * 60);
  EXPECT_EQ(s.at(AuthorityStep::kPullVotes, kQ), t - 17 * 60 - 30);
  EXPECT_EQ(s.at(AuthorityStep::kCompute, kQ), t - 15 * 60);
  EXPECT_EQ(s.at(AuthorityStep::kPullSignatures, kQ), t - 12 * 60 - 30);
  EXPECT_EQ(s.at(AuthorityStep::kPublish, kQ), t - 10 * 60);
  EXPECT_EQ(s.at(AuthorityStep::kFetchPublished, kQ), t - 5 * 60);
  EXPECT_EQ(s.at(AuthorityStep::kInstall, kQ), t);
}

TEST(AuthoritySchedule, HalfUnitsOfAnOddUnitAreRoundedToTheLaterSecond) {
  const auto s = schedule_of(36);  // u = 3 s: 3.5u = 10.5 s, 2.5u = 7.5 s
  const std::uint64_t t = kQ * 36;
  EXPECT_EQ(s.at(AuthorityStep::kVote, kQ), t - 12);
  EXPECT_EQ(s.at(AuthorityStep::kPullVotes, kQ), t - 10);
  EXPECT_EQ(s.at(AuthorityStep::kCompute, kQ), t - 9);
  EXPECT_EQ(s.at(AuthorityStep::kPullSignatures, kQ), t - 7);
}

TEST(AuthoritySchedule, NextStepAtAndAroundEveryBoundary) {
  for (std::uint64_t p : {std::uint64_t{24}, std::uint64_t{3600}}) {
    const auto s = schedule_of(p);
    const std::vector<AuthorityStep> steps = {
        AuthorityStep::kSweep,          AuthorityStep::kVote,           AuthorityStep::kPullVotes,
        AuthorityStep::kCompute,        AuthorityStep::kPullSignatures, AuthorityStep::kPublish,
        AuthorityStep::kFetchPublished, AuthorityStep::kInstall};
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const std::uint64_t at = s.at(steps[i], kQ);
      EXPECT_EQ(s.next_step(at), (ScheduledStep{steps[i], kQ, at})) << p << " " << i;
      // A second before a step is the previous step's own second when they
      // are 1 s apart (P = 24 s: 3.5u and 3u); otherwise it is this step's.
      const bool adjacent = i > 0 && s.at(steps[i - 1], kQ) == at - 1;
      const ScheduledStep before =
          adjacent ? ScheduledStep{steps[i - 1], kQ, at - 1} : ScheduledStep{steps[i], kQ, at};
      EXPECT_EQ(s.next_step(at - 1), before) << p << " " << i;
      const ScheduledStep after = s.next_step(at + 1);
      if (i + 1 < steps.size()) {
        EXPECT_EQ(after.step, steps[i + 1]) << p << " " << i;
        EXPECT_EQ(after.q, kQ);
      } else {  // after T: the next period's sweep, at T + P − 5u
        EXPECT_EQ(after, (ScheduledStep{AuthorityStep::kSweep, kQ + 1, at + p - 5 * p / 12}));
      }
    }
  }
}

TEST(AuthoritySchedule, VotingPeriodTurnsAtTheUploadDeadline) {
  const auto s = schedule_of(24);
  const std::uint64_t t = kQ * 24;
  EXPECT_EQ(s.voting_period(t - 10), kQ);
  EXPECT_EQ(s.voting_period(t - 11), kQ - 1);
  EXPECT_EQ(s.voting_period(t + 13), kQ);
  EXPECT_EQ(s.voting_period(t + 14), kQ + 1);
}

TEST(AuthoritySchedule, WindowsForUploadsVotesSignaturesAndFetches) {
  const auto s = schedule_of(24);
  const std::uint64_t t = kQ * 24;
  EXPECT_EQ(s.upload_window(kQ), (TimeWindow{t - 34, t - 10}));
  EXPECT_EQ(s.vote_window(kQ), (TimeWindow{t - 10, t - 6}));
  EXPECT_EQ(s.signature_window(kQ), (TimeWindow{t - 6, t}));
  EXPECT_EQ(s.cache_fetch_window(kQ), (TimeWindow{t - 4, t - 2}));
  EXPECT_EQ(s.client_fetch_window(kQ), (TimeWindow{t - 2, t + 10}));
  EXPECT_FALSE(s.vote_window(kQ).contains(t - 11));
  EXPECT_TRUE(s.vote_window(kQ).contains(t - 10));
  EXPECT_TRUE(s.vote_window(kQ).contains(t - 7));
  EXPECT_FALSE(s.vote_window(kQ).contains(t - 6));  // a late vote
  EXPECT_TRUE(s.signature_window(kQ).contains(t - 1));
  EXPECT_FALSE(s.signature_window(kQ).contains(t));
  // One upload window follows another: target(now) is q exactly inside q's.
  EXPECT_EQ(s.upload_window(kQ + 1).begin, s.upload_window(kQ).end);
  for (std::uint64_t now : {t - 35, t - 34, t - 11, t - 10}) {
    EXPECT_EQ(s.upload_window(kQ).contains(now), s.relay_target(now) == kQ) << now;
  }
}

TEST(AuthoritySchedule, RelayUploadsInTheFirstThreeUnitsAndRetriesUntilTheDeadline) {
  const auto s = schedule_of(3600);
  const std::uint64_t t = kQ * 3600;
  EXPECT_EQ(s.relay_upload_time(kQ, 0), t - 17 * 300);
  EXPECT_EQ(s.relay_upload_time(kQ, 3 * 300 - 1), t - 14 * 300 - 1);
  EXPECT_EQ(s.relay_upload_time(kQ, 3 * 300), t - 17 * 300);  // taken modulo 3u
  EXPECT_EQ(s.relay_upload_deadline(kQ), t - 5 * 300);
  EXPECT_EQ(s.relay_retry_delay(0), 1u);
  EXPECT_EQ(s.relay_retry_delay(1), 2u);
  EXPECT_EQ(s.relay_retry_delay(7), 128u);
  EXPECT_EQ(s.relay_retry_delay(8), 150u);  // capped at u/2
  EXPECT_EQ(s.relay_retry_delay(200), 150u);
  EXPECT_EQ(s.push_retry_delay(6), 64u);
  EXPECT_EQ(s.push_retry_delay(7), 75u);  // capped at u/4
}

// Two clocks S apart straddle the upload deadline: the relay still targets
// q, the authority already accepts q + 1 and names it; the relay follows.
TEST(AuthoritySchedule, ARelayFollowsAnOpenEpochWithinOneOfItsTarget) {
  const auto s = schedule_of(24);
  const std::uint64_t skew = 1;  // S in test mode
  const std::uint64_t deadline = s.relay_upload_deadline(kQ);
  const std::uint64_t relay_now = deadline - 1;
  const std::uint64_t authority_now = relay_now + skew;
  EXPECT_EQ(s.relay_target(relay_now), kQ);
  const std::uint64_t open = s.relay_target(authority_now);
  EXPECT_EQ(open, kQ + 1);
  EXPECT_TRUE(s.relay_follows_open_epoch(open, relay_now));
  EXPECT_TRUE(s.relay_follows_open_epoch(kQ - 1, relay_now));
  EXPECT_FALSE(s.relay_follows_open_epoch(kQ + 2, relay_now));  // a clock far off
  EXPECT_FALSE(s.relay_follows_open_epoch(kQ - 2, relay_now));
}

TEST(AuthoritySchedule, ClockTolerances) {
  EXPECT_EQ(authority_clock_tolerance(*Period::from_seconds(3600)), 37u);  // u/8 = 37.5 s
  EXPECT_EQ(authority_clock_tolerance(*Period::from_seconds(24)), 0u);     // u/8 = 0.25 s
  EXPECT_EQ(node_clock_tolerance(300), 150u);
}

TEST(AuthoritySchedule, APeriodNumberFromTheNetworkSaturatesInsteadOfWrapping) {
  const auto s = schedule_of(24);
  const std::uint64_t never = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(s.at(AuthorityStep::kSweep, never), never);
  EXPECT_EQ(s.next_step(never - 1).at, never);
}

}  // namespace
}  // namespace nyx::document
