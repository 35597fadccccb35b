// Vote parsing on arbitrary bytes: never crashes, and whatever parses
// re-encodes to exactly the same bytes (the encoding is canonical, proposal
// 0002 section 3.3). The parser checks no signature, so random bytes reach
// every field rule without re-signing; verify() then runs on what parses,
// at one Ed25519 check for the vote and one per entry.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "document/vote.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = nyx::document::Vote::parse(nyx::Bytes(data, size));
  if (!parsed) {
    return 0;
  }
  auto again = parsed->encode();
  if (!again || again->size() != size || std::memcmp(again->data(), data, size) != 0) {
    std::abort();
  }
  (void)parsed->verify();
  return 0;
}
