// Signed descriptor parsing on arbitrary bytes: never crashes, and whatever
// parses re-encodes to exactly the same bytes (the encoding is canonical,
// docs/protocol.md "Signed descriptor").
//
// Random bytes almost never carry a valid signature, so the parser's field
// checks would stay unexplored behind the signature check. Each input is
// therefore tried twice: as it is, and re-signed by a fixed identity that it
// is made to name (bytes 1 to 32), so every field rule is reached.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "document/signed_descriptor.hpp"

namespace {

const nyx::crypto::Ed25519KeyPair& fuzz_identity() {
  static const nyx::crypto::Ed25519KeyPair key = [] {
    std::array<std::uint8_t, 32> seed{};
    seed[0] = 0xF0;
    return nyx::crypto::Ed25519KeyPair::from_seed(seed);
  }();
  return key;
}

void parse_and_check(nyx::Bytes input) {
  auto parsed = nyx::document::SignedDescriptor::parse_and_verify(input);
  if (!parsed) {
    return;
  }
  auto again = parsed->encode();
  if (!again || again->size() != input.size() ||
      std::memcmp(again->data(), input.data(), input.size()) != 0) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  parse_and_check(nyx::Bytes(data, size));
  constexpr std::size_t kSignature = nyx::crypto::kEd25519SignatureSize;
  if (size < 1 + 32 + kSignature || size > nyx::document::kMaxSignedDescriptor) {
    return 0;
  }
  const auto& key = fuzz_identity();
  std::vector<std::uint8_t> resigned(data, data + size);
  std::memcpy(resigned.data() + 1, key.public_key.data(), key.public_key.size());
  const std::string_view context = nyx::document::kDescriptorSignatureContext;
  std::vector<std::uint8_t> message(context.begin(), context.end());
  message.insert(message.end(), resigned.begin(),
                 resigned.end() - static_cast<std::ptrdiff_t>(kSignature));
  const auto signature = key.sign(message);
  std::memcpy(resigned.data() + size - kSignature, signature.data(), kSignature);
  parse_and_check(resigned);
  return 0;
}
