// The circuits and streams tables, from the shapes circuits.list and
// streams.list return (docs/control.md); no node needed.
#include <gtest/gtest.h>

#include "cli/circuits_command.hpp"
#include "cli/streams_command.hpp"

namespace nyx::cli {
namespace {

using nlohmann::json;

TEST(RenderCircuits, OneRowPerClientCircuitWithItsShortenedPath) {
  const auto result = json::parse(R"({"relayed": 3, "circuits": [
      {"id": 1, "state": "open", "age_ms": 1500, "streams_open": 2, "streams_total": 5,
       "retired": false, "isolation": "default",
       "hops": ["aaaaaaaabbbbbbbb", "ccccccccdddddddd", "eeeeeeeeffffffff"]},
      {"id": 2, "state": "building", "age_ms": 40, "streams_open": 0, "streams_total": 0,
       "retired": true, "isolation": "isolated", "hops": []}]})");
  const std::string text = render_circuits(result);
  EXPECT_EQ(text.substr(0, text.find('\n')), "relayed for others: 3");
  EXPECT_NE(text.find("ID"), std::string::npos);
  EXPECT_NE(text.find("PATH"), std::string::npos);
  EXPECT_NE(text.find("aaaaaaaa > cccccccc > eeeeeeee"), std::string::npos) << text;
  EXPECT_EQ(text.find("bbbbbbbb"), std::string::npos) << text;
  EXPECT_NE(text.find("1.50 s"), std::string::npos) << text;
  EXPECT_NE(text.find("building (retired)"), std::string::npos) << text;
  EXPECT_NE(text.find("isolated"), std::string::npos) << text;
  // Header, two rows, after the relayed line.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
}

TEST(RenderCircuits, SaysWhenTheNodeBuiltNone) {
  EXPECT_EQ(render_circuits(json::parse(R"({"relayed": 12, "circuits": []})")),
            "relayed for others: 12\nno client circuits\n");
}

TEST(RenderCircuits, MissingOrMistypedFieldsShowADash) {
  const std::string text =
      render_circuits(json::parse(R"({"circuits": [{"id": "x", "state": 7, "hops": [1]}]})"));
  EXPECT_NE(text.find("relayed for others: -"), std::string::npos) << text;
  EXPECT_NE(text.find("?"), std::string::npos) << text;
}

TEST(RenderCircuits, AnotherShapeIsShownAsRecords) {
  EXPECT_EQ(render_circuits(json::array()), "no circuits\n");
  EXPECT_NE(render_circuits(json::parse(R"({"count": 4})")).find('4'), std::string::npos);
}

TEST(RenderStreams, OneRowPerStreamWithBytesInUnits) {
  const auto result = json::parse(R"([
      {"id": 4, "circuit": 1, "age_ms": 120, "bytes_up": 100, "bytes_down": 2097152},
      {"id": 5, "circuit": 1, "age_ms": 3000, "bytes_up": 0, "bytes_down": 1536}])");
  const std::string text = render_streams(result);
  EXPECT_EQ(text.substr(0, text.find('\n')).find("ID"), text.find("ID"));
  EXPECT_NE(text.find("CIRCUIT"), std::string::npos);
  EXPECT_NE(text.find("2.00 MiB"), std::string::npos) << text;
  EXPECT_NE(text.find("1.50 KiB"), std::string::npos) << text;
  EXPECT_NE(text.find("100 B"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

TEST(RenderStreams, SaysWhenThereAreNone) {
  EXPECT_EQ(render_streams(json::array()), "no streams\n");
}

}  // namespace
}  // namespace nyx::cli
