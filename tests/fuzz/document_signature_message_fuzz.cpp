// Signature message parsing on arbitrary bytes (proposal 0002 section 3.5):
// never crashes, and whatever parses re-encodes to the same 147 bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "document/signature_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = nyx::document::SignatureMessage::parse(nyx::Bytes(data, size));
  if (!parsed) {
    return 0;
  }
  auto again = parsed->encode();
  if (!again || again->size() != size || std::memcmp(again->data(), data, size) != 0) {
    std::abort();
  }
  return 0;
}
