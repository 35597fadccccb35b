#include "mix/cell.hpp"

#include "core/assert.hpp"
#include "core/crypto/random.hpp"

namespace nyx::mix {

Result<CellView> parse_cell(Bytes cell) {
  if (cell.size() != kCellSize) {
    return make_error(ErrorCategory::kParse, "cell: wrong size");
  }
  CellView view;
  view.circuit_id = load_be32(cell.data());
  std::uint8_t command = cell[kCircuitIdSize];
  if (command > static_cast<std::uint8_t>(kLastCellCommand)) {
    return make_error(ErrorCategory::kParse, "cell: unknown command", command);
  }
  view.command = static_cast<CellCommand>(command);
  view.payload = cell.subspan(kCellHeaderSize);
  if ((view.circuit_id == 0) != (view.command == CellCommand::kPadding)) {
    return make_error(ErrorCategory::kParse, "cell: circuit id 0 is for PADDING only");
  }
  if (view.command == CellCommand::kDestroy &&
      view.payload[0] > static_cast<std::uint8_t>(kLastDestroyReason)) {
    return make_error(ErrorCategory::kParse, "cell: unknown DESTROY reason", view.payload[0]);
  }
  return view;
}

DestroyReason destroy_reason(const CellView& destroy) {
  // parse_cell() refused every other byte; the enum must not be given one it
  // has no name for.
  NYX_RELEASE_ASSERT(destroy.command == CellCommand::kDestroy && !destroy.payload.empty(),
                     "destroy_reason() of a cell that is not a DESTROY");
  const std::uint8_t reason = destroy.payload[0];
  if (reason > static_cast<std::uint8_t>(kLastDestroyReason)) {
    NYX_BUG(false, "a DESTROY reason parse_cell() should have refused");
    return DestroyReason::kProtocol;
  }
  return static_cast<DestroyReason>(reason);
}

void write_cell_header(Cell& cell, CircuitId id, CellCommand command) noexcept {
  store_be32(cell.data(), id);
  cell[kCircuitIdSize] = static_cast<std::uint8_t>(command);
}

Cell make_destroy_cell(CircuitId id, DestroyReason reason) noexcept {
  Cell cell{};
  write_cell_header(cell, id, CellCommand::kDestroy);
  cell[kCellHeaderSize] = static_cast<std::uint8_t>(reason);
  return cell;
}

Cell make_padding_cell() {
  Cell cell;
  write_cell_header(cell, 0, CellCommand::kPadding);
  crypto::random_bytes(cell_payload(cell));
  return cell;
}

}  // namespace nyx::mix
