// SendOutcome's names, as logs and tests print them: each outcome has its own.
#include "core/datagram_channel.hpp"

#include <gtest/gtest.h>

namespace nyx {
namespace {

TEST(SendOutcome, EveryOutcomeHasItsOwnName) {
  EXPECT_EQ(to_string(SendOutcome::kSent), "sent");
  EXPECT_EQ(to_string(SendOutcome::kBlocked), "blocked");
  EXPECT_EQ(to_string(SendOutcome::kClosed), "closed");
  EXPECT_EQ(to_string(SendOutcome::kTooLarge), "too large");
}

}  // namespace
}  // namespace nyx
