// libFuzzer target: the UDP link datagram parser and the session's open path
// (replay window + authentication) on arbitrary bytes. Nothing may crash,
// read out of bounds, or authenticate a datagram the fuzzer made up.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/cell_size.hpp"
#include "transport/udp_session.hpp"
#include "transport/udp_wire.hpp"

namespace {

nyx::transport::UdpSessionKeys& session() {
  static nyx::transport::UdpSessionKeys* keys = [] {
    std::array<std::uint8_t, 32> key{};
    key.fill(0x11);
    nyx::transport::NoiseCipherState send;
    nyx::transport::NoiseCipherState receive;
    send.initialize_key(key);
    receive.initialize_key(key);
    return new nyx::transport::UdpSessionKeys(std::move(send), std::move(receive), 1);
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nyx::transport;
  auto message = parse_udp_message(nyx::Bytes(data, size));
  if (!message) {
    return 0;
  }
  if (size != kDatagramSize) {
    std::abort();  // the parser accepted a datagram of the wrong size
  }
  if (message->type == UdpMessageType::kData || message->type == UdpMessageType::kKeepalive) {
    std::array<std::uint8_t, nyx::kCellSize> cell{};
    if (session().open(*message, cell) == UdpSessionKeys::OpenResult::kOk) {
      std::abort();  // a forged datagram authenticated
    }
  }
  return 0;
}
