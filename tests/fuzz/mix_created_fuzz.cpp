// The client's CREATED scan (ClientOnion::open_created, proposal 0002,
// section 8.5) over a three-hop circuit with fixed keys. The first byte
// chooses the input's shape:
//   0 ... 2  the rest is a plaintext (type | length | data | padding, cut or
//            zero-filled to kRelayPlainSize) that hop `byte` originates
//            under its own backward keys, as its cell 0, under the steps of
//            the hops before it: the scan must name that hop, and parse
//            whatever it says;
//   else     the rest is a raw payload from the entry: no hop's key may open
//            it.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "mix/circuit_crypto.hpp"
#include "mix/client_onion.hpp"
#include "support/fixed_hop_keys.hpp"

namespace {

using nyx::mix::CellCommand;
using nyx::mix::CellVerdict;
using nyx::mix::HopKeys;

constexpr std::size_t kHops = 3;

HopKeys hop_keys(std::size_t hop) { return nyx::fuzz::fixed_hop_keys(0x40, hop); }

// Fixed per hop: the scan must not depend on what a hop draws.
std::array<std::uint8_t, nyx::mix::kHopHeaderSize> hop_nonce(std::size_t hop) {
  return nyx::fuzz::fixed_hop_nonce(0x5a, hop);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  std::vector<HopKeys> client;
  for (std::size_t hop = 0; hop < kHops; ++hop) {
    client.push_back(hop_keys(hop));
  }
  nyx::mix::ClientOnion onion(std::move(client));
  std::array<std::uint8_t, nyx::mix::kCellPayloadSize> payload{};
  const std::uint8_t shape = data[0];
  const std::size_t rest = size - 1;
  if (shape < kHops) {
    // As originate() does, with these plaintext bytes: counter 0 || 0^8 ||
    // plaintext || zero tail, then the origin's step.
    std::copy_n(data + 1, std::min(rest, nyx::mix::kRelayPlainSize),
                payload.begin() + nyx::mix::kHopHeaderSize);
    for (std::size_t hop = shape + 1; hop-- > 0;) {
      nyx::mix::relay_backward(hop_keys(hop).backward, CellCommand::kCreated, hop_nonce(hop),
                               payload);
    }
  } else {
    std::copy_n(data + 1, std::min(rest, payload.size()), payload.begin());
  }
  nyx::mix::ClientOnion::Answer answer;
  const CellVerdict verdict = onion.open_created(payload, answer);
  if (shape < kHops) {
    // Originated by hop `shape`: only a malformed plaintext may fail, and an
    // answer names the hop that originated it.
    if (verdict == CellVerdict::kOk ? answer.hop != shape : verdict != CellVerdict::kMalformed) {
      std::abort();
    }
  } else if (verdict != CellVerdict::kTampered) {
    std::abort();  // a forgery without any hop's key
  }
  return 0;
}
