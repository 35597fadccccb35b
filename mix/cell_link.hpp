#pragma once
// The mix layer's narrow view of the transport: send one cell to a
// neighbour named by its static X25519 link key. The relay logic talks only
// to this, so it runs unchanged over the in-memory network of the tests and
// over the transport's LinkManager (mix/link_manager_cell_link.hpp).
//
// Implementations are called from the relay's thread only.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/bytes.hpp"

namespace nyx::mix {

using PeerKey = std::array<std::uint8_t, 32>;

// Link keys are random curve points: their first bytes are already a good hash.
struct PeerKeyHash {
  std::size_t operator()(const PeerKey& key) const noexcept {
    std::size_t h;
    std::memcpy(&h, key.data(), sizeof h);
    return h;
  }
};

class CellLink {
 public:
  virtual ~CellLink() = default;
  // Hands one kCellSize cell to the link towards `peer`. False when the link
  // dropped it (the link counts its own drops).
  virtual bool send_cell(const PeerKey& peer, Bytes cell) = 0;
};

}  // namespace nyx::mix
