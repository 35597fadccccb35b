#pragma once
// The mix layer's cell: circuit id | command | payload, always kCellSize
// bytes (docs/protocol.md, "Circuits (mix)"), and the parser of its header.
//
// RELAY and CREATED payloads are nonce | body; CREATE carries the onion
// header (mix/onion_create.hpp); CREATE_DIR a client secret and zero padding
// (mix/create_dir.hpp); DESTROY a reason; PADDING nothing. Value
// types and free functions; thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/bytes.hpp"
#include "core/cell_size.hpp"
#include "core/error.hpp"

namespace nyx::mix {

using CircuitId = std::uint32_t;
using Cell = std::array<std::uint8_t, kCellSize>;

inline constexpr std::size_t kCircuitIdSize = 4;
inline constexpr std::size_t kCellHeaderSize = kCircuitIdSize + 1;
inline constexpr std::size_t kCellPayloadSize = kCellSize - kCellHeaderSize;  // 1019
// RELAY and CREATED payloads: a hop's 16-byte header, then the body it
// streams (docs/protocol.md, "Data cells").
inline constexpr std::size_t kHopHeaderSize = 16;
inline constexpr std::size_t kCellBodySize = kCellPayloadSize - kHopHeaderSize;  // 1003

enum class CellCommand : std::uint8_t {
  kPadding = 0,  // link-level cover; dropped by the neighbour
  kCreate = 1,
  kCreated = 2,
  kRelay = 3,
  kDestroy = 4,
  kCreateDir = 5,  // a one-hop directory circuit (proposal 0002, section 4.1)
};
inline constexpr CellCommand kLastCellCommand = CellCommand::kCreateDir;

// Why a circuit closed. On the wire only inside an END (docs/protocol.md,
// "DESTROY and END"), readable by the end it concerns; relays see opaque
// DESTROY payloads.
enum class DestroyReason : std::uint8_t {
  kRequested = 0,     // the owner closed the circuit
  kProtocol = 1,      // a cell broke the protocol
  kTampered = 2,      // a hop's header or an end's check failed
  kTimeout = 3,       // setup or idle timeout
  kCreateFailed = 4,  // local only: the build failed (a hop refused the CREATE)
  kResources = 5,     // a table or cache is full
  kLinkDown = 6,      // a neighbour's link went away
  kCellLimit = 7,     // more cells one way than one circuit's keys may carry
  kUnknown = 255,     // local only: a DESTROY whose END this end cannot read
};

struct CellView {
  CircuitId circuit_id = 0;
  CellCommand command = CellCommand::kPadding;
  Bytes payload;  // kCellPayloadSize bytes
};

// Checks size, command and circuit id (0 only for PADDING). kParse otherwise.
Result<CellView> parse_cell(Bytes cell);

void write_cell_header(Cell& cell, CircuitId id, CellCommand command) noexcept;
inline MutableBytes cell_payload(Cell& cell) noexcept {
  return MutableBytes(cell).subspan(kCellHeaderSize);
}
// The DESTROY of a hop that holds no keys for the circuit (it refused the
// CREATE): 1019 random bytes, which no end can read.
Cell make_keyless_destroy_cell(CircuitId id) noexcept;
// A PADDING cell: circuit id 0, random payload.
Cell make_padding_cell();

}  // namespace nyx::mix
