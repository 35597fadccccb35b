// CREATE processing at a hop on arbitrary payloads. The hop's onion key is
// fixed (secret = 32 bytes of 0x42), so seeds built for it pass the MAC and
// reach routing, blinding and key derivation.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "mix/onion_create.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::array<std::uint8_t, 32> kSecret = [] {
    std::array<std::uint8_t, 32> s;
    s.fill(0x42);
    return s;
  }();
  nyx::mix::OnionKeyRing ring(8);
  ring.rotate(1, nyx::crypto::X25519KeyPair::from_secret(kSecret));
  nyx::mix::CreatePayload payload{};
  std::copy_n(data, std::min(size, payload.size()), payload.begin());
  auto first = process_create(ring, payload);
  if (first && first->action == nyx::mix::CreateAction::kForward) {
    // The same header again must be a replay.
    std::copy_n(data, std::min(size, payload.size()), payload.begin());
    if (process_create(ring, payload)) {
      __builtin_trap();
    }
  }
  return 0;
}
