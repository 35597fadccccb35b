#include "core/error.hpp"

#include <gtest/gtest.h>

namespace nyx {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) {
    return make_error(ErrorCategory::kInvalidArgument, "not positive", v);
  }
  return v;
}

TEST(Error, ResultCarriesValueOrError) {
  ASSERT_TRUE(parse_positive(3).has_value());
  EXPECT_EQ(*parse_positive(3), 3);

  auto bad = parse_positive(-2);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().category, ErrorCategory::kInvalidArgument);
  EXPECT_EQ(bad.error().code, -2);
  EXPECT_EQ(bad.error().to_string(), "invalid argument(-2): not positive");
}

TEST(Error, MessageWithoutCode) {
  Error e{ErrorCategory::kParse, 0, "frame truncated"};
  EXPECT_EQ(e.to_string(), "parse: frame truncated");
}

}  // namespace
}  // namespace nyx
