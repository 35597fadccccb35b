// libFuzzer target: Noise XK handshake message processing on arbitrary bytes.
// The first input byte picks the stage: the responder reading message 1, the
// initiator reading message 2 (after a real message 1), or the responder
// reading message 3 (after real messages 1 and 2). No input may crash, and a
// made-up message must never complete a handshake.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/crypto/x25519.hpp"
#include "transport/noise_handshake.hpp"

namespace {

struct Keys {
  nyx::crypto::X25519KeyPair initiator = nyx::crypto::X25519KeyPair::generate();
  nyx::crypto::X25519KeyPair responder = nyx::crypto::X25519KeyPair::generate();
};

const Keys& keys() {
  static const Keys* k = new Keys();
  return *k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nyx::transport;
  if (size < 1) {
    return 0;
  }
  const nyx::Bytes input(data + 1, size - 1);
  const auto prologue = nyx::as_bytes(kLinkPrologue);
  auto initiator =
      NoiseHandshake::initiator(keys().initiator, keys().responder.public_key, prologue);
  auto responder = NoiseHandshake::responder(keys().responder, prologue);
  std::array<std::uint8_t, 256> wire{};
  std::array<std::uint8_t, 65536> payload{};
  switch (data[0] % 3) {
    case 0: {
      (void)responder.read_message(input, payload);
      break;
    }
    case 1: {
      if (!initiator.write_message({}, wire)) {
        std::abort();
      }
      if (initiator.read_message(input, payload)) {
        std::abort();  // a made-up message 2 authenticated
      }
      break;
    }
    default: {
      auto n1 = initiator.write_message({}, wire);
      if (!n1 || !responder.read_message(nyx::Bytes(wire).first(*n1), payload)) {
        std::abort();
      }
      auto n2 = responder.write_message({}, wire);
      if (!n2) {
        std::abort();
      }
      if (responder.read_message(input, payload) && responder.complete()) {
        std::abort();  // a made-up message 3 authenticated
      }
      break;
    }
  }
  return 0;
}
