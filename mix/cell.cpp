#include "mix/cell.hpp"

#include "core/crypto/random.hpp"
#include "core/crypto/random_pool.hpp"

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
  return view;
}

void write_cell_header(Cell& cell, CircuitId id, CellCommand command) noexcept {
  store_be32(cell.data(), id);
  cell[kCircuitIdSize] = static_cast<std::uint8_t>(command);
}

Cell make_keyless_destroy_cell(CircuitId id) noexcept {
  Cell cell;
  write_cell_header(cell, id, CellCommand::kDestroy);
  crypto::pooled_random_bytes(cell_payload(cell));
  return cell;
}

Cell make_padding_cell() {
  Cell cell;
  write_cell_header(cell, 0, CellCommand::kPadding);
  crypto::random_bytes(cell_payload(cell));
  return cell;
}

}  // namespace nyx::mix
