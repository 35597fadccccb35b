#pragma once
// CREATE_DIR: the setup of a one-hop directory circuit without an onion key
// (proposal 0002, section 4.1; docs/protocol.md, "CREATE_DIR"). The client
// sends a fresh random secret x in the clear of the cell, which only the
// Noise link's responder can read; both ends derive
// s = KDF(x, "mix-create-dir", 32) and from s the circuit keys exactly as a
// hop of a CREATE does (HopKeys::derive). No Diffie-Hellman, no replay tag:
// the link gives the forward secrecy and the replay protection.
//
// Free functions; thread-safe.

#include <cstddef>

#include "core/error.hpp"
#include "mix/cell.hpp"
#include "mix/hop_keys.hpp"
#include "mix/onion_create.hpp"

namespace nyx::mix {

inline constexpr std::size_t kCreateDirSecretSize = 32;
inline constexpr std::size_t kCreateDirPaddingSize =
    kCellPayloadSize - kCreateDirSecretSize;  // 987
static_assert(kCreateDirPaddingSize == 987);

struct ClientCreateDir {
  CreatePayload payload{};  // x || zero padding
  HopKeys keys;             // the hop's keys, as the client holds them
};

// A CREATE_DIR payload under a fresh random x, and the keys it gives.
ClientCreateDir build_create_dir();

// The hop's keys from a CREATE_DIR payload. kProtocol when the payload is not
// kCellPayloadSize bytes or any padding byte is non-zero (DESTROY 1).
Result<HopKeys> process_create_dir(Bytes payload);

}  // namespace nyx::mix
