#pragma once
// PeerKey: how the transport names a neighbour — its static X25519 link public
// key, as the directory lists it and as the Noise handshake authenticates it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nyx::transport {

using PeerKey = std::array<std::uint8_t, 32>;

// Keys are uniformly random curve points, so their first eight bytes are
// already a good hash; no mixing needed on the lookup path.
struct PeerKeyHash {
  std::size_t operator()(const PeerKey& key) const noexcept {
    std::size_t h;
    std::memcpy(&h, key.data(), sizeof h);
    return h;
  }
};

}  // namespace nyx::transport
