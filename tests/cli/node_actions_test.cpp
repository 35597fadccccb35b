#include <string>

#include <gtest/gtest.h>

#include "cli/call_command.hpp"
#include "cli/reload_command.hpp"

namespace nyx::cli {
namespace {

using nlohmann::json;

TEST(DescribeReload, SaysWhatAppliedWhatNeedsARestartAndTheDirectory) {
  const std::string line =
      describe_reload({{"applied", {"log"}}, {"restart_required", {"socks", "mix"}}},
                      {{"nodes", 5}, {"valid_until", 1735689600}});
  EXPECT_EQ(line,
            "config reloaded: applied log; changed but need a restart (ignored until then): "
            "socks, mix; directory: 5 nodes, valid until 2025-01-01 00:00 UTC");
}

TEST(DescribeReload, NothingChangedAndAnUnexpectedShapeDoNotThrow) {
  EXPECT_EQ(describe_reload({{"applied", json::array()}, {"restart_required", json::array()}},
                            {{"nodes", 2}}),
            "config reloaded: applied nothing; directory: 2 nodes");
  EXPECT_EQ(describe_reload(json("odd"), json::array()),
            "config reloaded: applied nothing; directory: ? nodes");
}

TEST(ParseCallParams, EmptyIsNoParamsAndBadJsonIsAUsageError) {
  auto none = parse_call_params("");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->is_null());
  auto params = parse_call_params(R"({"id": 3})");
  ASSERT_TRUE(params);
  EXPECT_EQ((*params)["id"], 3);
  auto bad = parse_call_params("{id: 3}");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ExitCode::kUsage);
  EXPECT_NE(bad.error().message.find("{id: 3}"), std::string::npos);
}

}  // namespace
}  // namespace nyx::cli
