#pragma once
// What the relay tests check cells and datagrams with, written once:
// a DatagramReceiver that keeps every datagram it is given, a string as
// bytes, and whether a cell carries a given command.

#include <cstdint>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/datagram_channel.hpp"
#include "mix/cell.hpp"

namespace nyx::mix::testing {

class DatagramCollector final : public DatagramReceiver {
 public:
  void on_datagram(Bytes datagram) override { got.emplace_back(datagram.begin(), datagram.end()); }
  std::vector<std::vector<std::uint8_t>> got;
};

inline std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

inline bool is_command(const Cell& cell, CellCommand command) {
  return cell[kCircuitIdSize] == static_cast<std::uint8_t>(command);
}

}  // namespace nyx::mix::testing
