// libFuzzer target: the cookie reply (docs/proposals/0004 §6.2, type 6) on
// arbitrary bytes, through parse_cookie_reply and CookieMaker::consume_reply
// with the fixed responder key and init of tests/transport/link_cookie_vectors.py,
// so corpus/transport_cookie_reply/valid_reply.bin opens. No input may crash;
// a reply is accepted only after an init and only once, and only if it parses.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/clock.hpp"
#include "transport/link_cookie.hpp"

namespace {

nyx::transport::PeerKey fixed_responder_key() {
  nyx::transport::PeerKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) {
    key[i] = static_cast<std::uint8_t>(i);
  }
  return key;
}

// The first 88 bytes of a UDP init: type 1, sender_index 0x01020304, the
// 48-byte message 40 41 .. 6f, then mac1 and mac2 written by add_macs.
std::array<std::uint8_t, 88> fixed_init() {
  std::array<std::uint8_t, 88> init{};
  init[0] = 1;
  nyx::store_be32(init.data() + 4, 0x01020304);
  for (std::size_t i = 0; i < 48; ++i) {
    init[8 + i] = static_cast<std::uint8_t>(0x40 + i);
  }
  return init;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nyx::transport;
  const nyx::Bytes input(data, size);
  const nyx::Nanos now{0};
  const auto parsed = parse_cookie_reply(input);
  if (parsed && parsed->receiver_index != nyx::load_be32(data + kCookieReplyIndexOffset)) {
    std::abort();
  }

  CookieMaker maker(fixed_responder_key());
  if (maker.consume_reply(input, now)) {
    std::abort();  // no init was sent: there is no mac1 to answer
  }
  auto init = fixed_init();
  maker.add_macs(init, now);
  if (maker.consume_reply(input, now)) {
    if (!parsed || !maker.has_cookie(now)) {
      std::abort();
    }
    if (maker.consume_reply(input, now)) {
      std::abort();  // the same reply twice for one init
    }
  }
  return 0;
}
