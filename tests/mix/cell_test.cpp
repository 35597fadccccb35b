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
  Cell destroy = make_destroy_cell(3, DestroyReason::kTampered);
  auto view = parse_cell(destroy);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->payload[0], static_cast<std::uint8_t>(DestroyReason::kTampered));
  destroy[kCellHeaderSize] = 200;
  EXPECT_FALSE(parse_cell(destroy).has_value());
}

TEST(Cell, DestroyReasonRoundTripsEveryReason) {
  for (std::uint8_t r = 0; r <= static_cast<std::uint8_t>(kLastDestroyReason); ++r) {
    const auto reason = static_cast<DestroyReason>(r);
    const Cell destroy = make_destroy_cell(7, reason);
    auto view = parse_cell(destroy);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(destroy_reason(*view), reason);
  }
}

// A reason byte parse_cell() never let through is a bug of the caller, not a
// value for the enum: debug builds stop, release builds say kProtocol.
TEST(CellDeathTest, DestroyReasonOfAnUnparsedByteIsABug) {
  Cell destroy = make_destroy_cell(7, DestroyReason::kTimeout);
  CellView view{
      .circuit_id = 7, .command = CellCommand::kDestroy, .payload = cell_payload(destroy)};
  destroy[kCellHeaderSize] = 200;
  EXPECT_DEBUG_DEATH(EXPECT_EQ(destroy_reason(view), DestroyReason::kProtocol),
                     "should have refused");
  CellView relay{.circuit_id = 7, .command = CellCommand::kRelay, .payload = cell_payload(destroy)};
  EXPECT_DEATH(destroy_reason(relay), "not a DESTROY");
}

}  // namespace
}  // namespace nyx::mix
