// The per-hop cell crypto of RELAY cells (mix/circuit_crypto.hpp,
// mix/client_onion.hpp) over a three-hop circuit with fixed keys. The first
// byte chooses the input's shape; the rest is:
//   0, 1, 2  a raw 1019-byte payload (cut or zero-filled), handed to the
//            entry's forward step, the last hop's open, or the client's
//            open: with no key behind it, each must say kTampered;
//   3, 4     data (cut to kMaxRelayData) that the client seals forward, or
//            the last hop originates backward, through every hop: it must
//            open to exactly that data, and the same cell again must be
//            refused as a replay;
//   5, 6     as 3, 4, with bytes 0-1 naming a payload byte and byte 2 the
//            bits to flip there: the first honest check (the entry's step
//            forward, the client backward) must say kTampered.
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
using nyx::mix::RelayMessage;
using nyx::mix::RelayType;
using Payload = std::array<std::uint8_t, nyx::mix::kCellPayloadSize>;

constexpr std::size_t kHops = 3;

HopKeys hop_keys(std::size_t hop) { return nyx::fuzz::fixed_hop_keys(0x60, hop); }

std::array<std::uint8_t, nyx::mix::kHopHeaderSize> hop_nonce(std::size_t hop) {
  return nyx::fuzz::fixed_hop_nonce(0xa0, hop);
}

// Both ends of one circuit and every hop's state between them.
struct Circuit {
  Circuit() : onion(client_keys()), last(hop_keys(kHops - 1)) {
    for (std::size_t hop = 0; hop + 1 < kHops; ++hop) {
      middles.push_back(hop_keys(hop));
    }
  }
  static std::vector<HopKeys> client_keys() {
    std::vector<HopKeys> keys;
    for (std::size_t hop = 0; hop < kHops; ++hop) {
      keys.push_back(hop_keys(hop));
    }
    return keys;
  }

  // Every middle hop's forward step, then the last hop's open.
  CellVerdict forward(Payload& payload, RelayMessage& message) {
    for (std::size_t hop = 0; hop < middles.size(); ++hop) {
      const CellVerdict verdict =
          nyx::mix::relay_forward(middles[hop].forward, CellCommand::kRelay, windows[hop], payload);
      if (verdict != CellVerdict::kOk) {
        return verdict;
      }
    }
    return last.open(CellCommand::kRelay, payload, message);
  }
  // Every middle hop's backward step, last to first.
  void backward(Payload& payload) const {
    for (std::size_t hop = middles.size(); hop-- > 0;) {
      nyx::mix::relay_backward(middles[hop].backward, CellCommand::kRelay, hop_nonce(hop), payload);
    }
  }

  nyx::mix::ClientOnion onion;
  nyx::mix::TerminalCrypto last;
  std::vector<HopKeys> middles;
  std::array<nyx::mix::SlotWindow, kHops - 1> windows;
};

bool same_data(const RelayMessage& message, nyx::Bytes data) {
  return message.type == RelayType::kData &&
         std::equal(message.data.begin(), message.data.end(), data.begin(), data.end());
}

void raw(std::uint8_t shape, nyx::Bytes rest) {
  Circuit circuit;
  Payload payload{};
  std::copy_n(rest.begin(), std::min(rest.size(), payload.size()), payload.begin());
  RelayMessage message;
  CellVerdict verdict = CellVerdict::kOk;
  if (shape == 0) {
    verdict = nyx::mix::relay_forward(circuit.middles[0].forward, CellCommand::kRelay,
                                      circuit.windows[0], payload);
  } else if (shape == 1) {
    verdict = circuit.last.open(CellCommand::kRelay, payload, message);
  } else {
    verdict = circuit.onion.open(payload, message);
  }
  if (verdict != CellVerdict::kTampered) {
    std::abort();  // a forgery without the key
  }
}

void round_trip(bool forward, nyx::Bytes data) {
  data = data.first(std::min(data.size(), nyx::mix::kMaxRelayData));
  Circuit circuit;
  Payload payload;
  RelayMessage message;
  if (forward) {
    circuit.onion.seal(RelayType::kData, data, payload);
    Payload again = payload;
    if (circuit.forward(payload, message) != CellVerdict::kOk || !same_data(message, data) ||
        circuit.forward(again, message) != CellVerdict::kReplayed) {
      std::abort();
    }
    return;
  }
  circuit.last.seal(CellCommand::kRelay, RelayType::kData, data, payload);
  circuit.backward(payload);
  Payload again = payload;
  if (circuit.onion.open(payload, message) != CellVerdict::kOk || !same_data(message, data) ||
      circuit.onion.open(again, message) != CellVerdict::kReplayed) {
    std::abort();
  }
}

void bit_flip(bool forward, nyx::Bytes rest) {
  if (rest.size() < 3 || rest[2] == 0) {
    return;
  }
  const std::size_t at = ((std::size_t{rest[0]} << 8) | rest[1]) % nyx::mix::kCellPayloadSize;
  const nyx::Bytes data = rest.subspan(3, std::min(rest.size() - 3, nyx::mix::kMaxRelayData));
  Circuit circuit;
  Payload payload;
  RelayMessage message;
  if (forward) {
    circuit.onion.seal(RelayType::kData, data, payload);
    payload[at] ^= rest[2];
    if (nyx::mix::relay_forward(circuit.middles[0].forward, CellCommand::kRelay, circuit.windows[0],
                                payload) != CellVerdict::kTampered) {
      std::abort();
    }
    return;
  }
  circuit.last.seal(CellCommand::kRelay, RelayType::kData, data, payload);
  payload[at] ^= rest[2];
  circuit.backward(payload);
  if (circuit.onion.open(payload, message) != CellVerdict::kTampered) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const nyx::Bytes rest(data + 1, size - 1);
  switch (data[0]) {
    case 0:
    case 1:
    case 2:
      raw(data[0], rest);
      break;
    case 3:
    case 4:
      round_trip(data[0] == 3, rest);
      break;
    case 5:
    case 6:
      bit_flip(data[0] == 5, rest);
      break;
    default:
      break;
  }
  return 0;
}
