#include "mix/cell.hpp"

#include <gtest/gtest.h>

namespace nyx::mix {
namespace {

TEST(Cell, ParsesHeaderAndPayload) {
  Cell cell{};
  write_cell_header(cell, 0x01020304, CellCommand::kRelay);
  cell[kCellHeaderSize] = 0xee;
  auto view = parse_cell(cell);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->circuit_id, 0x01020304u);
  EXPECT_EQ(view->command, CellCommand::kRelay);
  EXPECT_EQ(view->payload.size(), kCellPayloadSize);
  EXPECT_EQ(view->payload[0], 0xee);
  EXPECT_EQ(cell[0], 0x01);  // big-endian circuit id
}

TEST(Cell, RejectsMalformed) {
  Cell cell{};
  write_cell_header(cell, 5, CellCommand::kRelay);
  EXPECT_FALSE(parse_cell(Bytes(cell).first(kCellSize - 1)).has_value());
  cell[kCircuitIdSize] = 9;
  EXPECT_FALSE(parse_cell(cell).has_value());
  write_cell_header(cell, 0, CellCommand::kRelay);  // id 0 is PADDING's
  EXPECT_FALSE(parse_cell(cell).has_value());
  Cell padding = make_padding_cell();
  EXPECT_TRUE(parse_cell(padding).has_value());
  write_cell_header(padding, 3, CellCommand::kPadding);
  EXPECT_FALSE(parse_cell(padding).has_value());
  // A DESTROY's payload is opaque (its reason travels inside, end to end):
  // any bytes parse.
  Cell destroy = make_keyless_destroy_cell(3);
  destroy[kCellHeaderSize] = 200;
  EXPECT_TRUE(parse_cell(destroy).has_value());
}

TEST(Cell, AKeylessDestroyIsRandomEachTime) {
  const Cell a = make_keyless_destroy_cell(7);
  const Cell b = make_keyless_destroy_cell(7);
  ASSERT_TRUE(parse_cell(a).has_value());
  EXPECT_EQ(parse_cell(a)->command, CellCommand::kDestroy);
  std::size_t equal = 0;
  for (std::size_t i = kCellHeaderSize; i < kCellSize; ++i) {
    equal += a[i] == b[i] ? 1u : 0u;
  }
  EXPECT_LT(equal, 20u);  // chance: about 4 of 1019
}

}  // namespace
}  // namespace nyx::mix
