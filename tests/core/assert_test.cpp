// The three assertion levels of core/assert.hpp: what each does when its
// condition holds and when it does not, in this build's mode (NDEBUG or not),
// and the release behaviour of NYX_BUG (log once, count each) called
// directly so a debug build tests it too.
#include "core/assert.hpp"

#include <atomic>

#include <gtest/gtest.h>

namespace nyx {
namespace {

TEST(Assert, HoldingConditionsDoNothing) {
  int evaluated = 0;
  NYX_RELEASE_ASSERT(++evaluated == 1, "evaluated once");
  NYX_BUG(++evaluated == 2, "evaluated once");
  EXPECT_EQ(evaluated, 2);
  const std::uint64_t bugs = bug_count();
  NYX_ASSERT(evaluated == 2, "holds");
  EXPECT_EQ(bug_count(), bugs);
}

TEST(AssertDeathTest, ReleaseAssertAbortsWithFileLineAndMessage) {
  EXPECT_DEATH(NYX_RELEASE_ASSERT(1 + 1 == 3, "arithmetic broke"),
               "NYX_RELEASE_ASSERT failed at .*assert_test.cpp:[0-9]+: 1 \\+ 1 == 3: "
               "arithmetic broke");
}

#ifdef NDEBUG

TEST(Assert, DebugAssertIsNotEvaluatedInRelease) {
  int evaluated = 0;
  NYX_ASSERT(++evaluated == 5, "not evaluated");
  EXPECT_EQ(evaluated, 0);
}

TEST(Assert, BugCountsAndCarriesOnInRelease) {
  const std::uint64_t bugs = bug_count();
  for (int i = 0; i < 3; ++i) {
    NYX_BUG(i < 0, "never holds");
  }
  EXPECT_EQ(bug_count(), bugs + 3);
}

#else

TEST(AssertDeathTest, DebugAssertAbortsInDebug) {
  EXPECT_DEATH(NYX_ASSERT(sizeof(int) == 1, "int is one byte"),
               "NYX_ASSERT failed at .*assert_test.cpp:[0-9]+: .*int is one byte");
}

TEST(AssertDeathTest, BugAbortsInDebug) {
  EXPECT_DEATH(NYX_BUG(false, "a survivable bug"), "NYX_BUG failed at .*: a survivable bug");
}

#endif

TEST(Assert, ReleaseBugLogsOncePerSiteAndCountsEveryFailure) {
  const std::uint64_t bugs = bug_count();
  std::atomic<bool> logged{false};
  assert_detail::bug("x", "first", __FILE__, __LINE__, logged);
  EXPECT_TRUE(logged.load());
  assert_detail::bug("x", "second", __FILE__, __LINE__, logged);
  EXPECT_EQ(bug_count(), bugs + 2);
}

}  // namespace
}  // namespace nyx
