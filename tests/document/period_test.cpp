// The period and its derived times (proposal 0002 sections 2.1 to 2.3): which
// P a network may use, which skew fits it, consensus q's three times, and the
// epoch a relay uploads for on either side of the upload deadline.
#include "document/period.hpp"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace nyx::document {
namespace {

Period period(std::uint64_t seconds) { return *Period::from_seconds(seconds); }

TEST(Period, AllowsMultiplesOf12ThatDivideADay) {
  for (std::uint64_t seconds :
       std::initializer_list<std::uint64_t>{24, 36, 60, 3600, 7200, 86400}) {
    auto p = Period::from_seconds(seconds);
    ASSERT_TRUE(p) << seconds;
    EXPECT_EQ(p->seconds(), seconds);
  }
}

TEST(Period, RefusesEveryOtherPeriod) {
  struct Case {
    std::uint64_t seconds;
    const char* rule;
  };
  for (const Case& c :
       {Case{0, "at least 24"}, Case{12, "at least 24"}, Case{23, "at least 24"},
        Case{25, "multiple of 12"}, Case{3601, "multiple of 12"}, Case{84, "divide a day"},
        Case{172800, "divide a day"}, Case{12 * 86400, "divide a day"}}) {
    auto p = Period::from_seconds(c.seconds);
    ASSERT_FALSE(p) << c.seconds;
    EXPECT_EQ(p.error().category, ErrorCategory::kConfig);
    EXPECT_NE(p.error().message.find(c.rule), std::string::npos) << p.error().message;
  }
}

TEST(Period, UnitEpochAndTheThreeTimes) {
  const Period hour = period(3600);
  EXPECT_EQ(hour.unit(), 300u);
  EXPECT_EQ(period(24).unit(), 2u);
  EXPECT_EQ(hour.epoch(0), 0u);
  EXPECT_EQ(hour.epoch(3599), 0u);
  EXPECT_EQ(hour.epoch(3600), 1u);
  EXPECT_EQ(hour.valid_after(10), 36000u);
  EXPECT_EQ(hour.fresh_until(10), 39600u);
  EXPECT_EQ(hour.valid_until(10), 43200u);
  EXPECT_EQ(hour.valid_until(10) - hour.valid_after(10), 2u * 3600);  // L = 2P
}

TEST(Period, TimesPast2To64Saturate) {
  // A period number read from the network must not wrap around to the past.
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  const Period hour = period(3600);
  EXPECT_EQ(hour.valid_after(kMax), kMax);
  EXPECT_EQ(hour.valid_until(kMax - 1), kMax);
  EXPECT_EQ(hour.valid_after(kMax / 3600 + 1), kMax);
  EXPECT_GT(hour.valid_until(kMax / 3600), hour.valid_after(kMax / 3600 - 5));
  EXPECT_EQ(hour.upload_target(kMax), kMax / 3600 + 1);
}

TEST(Period, UploadTargetTurnsAtTheDeadline) {
  // target(now) = floor((now + 5u) / P) + 1: from T − 17u (the previous
  // deadline) to T − 5u a relay uploads for q; from T − 5u on, for q + 1.
  for (std::uint64_t seconds : std::initializer_list<std::uint64_t>{24, 3600}) {
    const Period p = period(seconds);
    const std::uint64_t q = 1000;
    const std::uint64_t t = p.valid_after(q);
    const std::uint64_t u = p.unit();
    EXPECT_EQ(p.upload_target(t - 17 * u), q) << seconds;
    EXPECT_EQ(p.upload_target(t - 5 * u - 1), q) << seconds;
    EXPECT_EQ(p.upload_target(t - 5 * u), q + 1) << seconds;
    EXPECT_EQ(p.upload_target(t), q + 1) << seconds;
    EXPECT_EQ(p.upload_target(t - 17 * u - 1), q - 1) << seconds;
  }
}

TEST(Period, ClockSkewMustFitThePeriod) {
  EXPECT_TRUE(check_clock_skew(period(3600), 0));
  EXPECT_TRUE(check_clock_skew(period(3600), 300));  // the default: S = u
  EXPECT_TRUE(check_clock_skew(period(24), 1));      // the test network's
  auto above_unit = check_clock_skew(period(3600), 301);
  ASSERT_FALSE(above_unit);
  EXPECT_EQ(above_unit.error().category, ErrorCategory::kConfig);
  EXPECT_NE(above_unit.error().message.find("period/12"), std::string::npos);
  // P = 24: u = 2 allows S = 2, but 2·2 + 10 > 12 = P/2.
  auto no_room = check_clock_skew(period(24), 2);
  ASSERT_FALSE(no_room);
  EXPECT_NE(no_room.error().message.find("period/2"), std::string::npos);
}

}  // namespace
}  // namespace nyx::document
