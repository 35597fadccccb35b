#pragma once
// Helpers for transport tests on real loopback sockets: recognisable cells,
// and simulated time for the links (running the io_context until a condition
// holds is tests/support/run_until.hpp).

#include <chrono>
#include <cstdint>
#include <cstring>

#include <asio/io_context.hpp>

#include "async/manual_timers.hpp"
#include "core/bytes.hpp"
#include "core/cell_size.hpp"
#include "core/clock.hpp"

namespace nyx::transport::test {

// The 1,000,000-cell runs take seconds in the dev build; under sanitizers a
// tenth keeps CI sane while exercising the same paths.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr std::uint64_t kBulkCells = 100'000;
#else
inline constexpr std::uint64_t kBulkCells = 1'000'000;
#endif

// An io_context whose timers run on simulated time: hand `clock` and
// `timers` to the components, drive them with test::run_until / run_for.
// Declare it before the components (they disarm their timers on it).
struct SimulatedTime {
  asio::io_context io;
  ManualClock clock{std::chrono::seconds(1)};
  async::ManualTimers timers{io, clock};
};

// Cell `seq` of stream `stream`: the sequence number, then bytes derived from
// both, so a cell out of place or altered is caught.
inline void fill_cell(std::uint8_t* cell, std::uint64_t stream, std::uint64_t seq) {
  store_be64(cell, seq);
  std::uint64_t x = seq * 0x9e3779b97f4a7c15ULL + stream;
  for (std::size_t i = 8; i < kCellSize; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(cell + i, &x, 8);
  }
}

inline bool cell_matches(Bytes cell, std::uint64_t stream, std::uint64_t seq) {
  std::uint8_t expected[kCellSize];
  fill_cell(expected, stream, seq);
  return cell.size() == kCellSize && std::memcmp(cell.data(), expected, kCellSize) == 0;
}

}  // namespace nyx::transport::test
