// Directory parsing and verification on arbitrary bytes: never crashes, and
// whatever parses re-encodes to exactly the same bytes (the encoding is
// canonical, docs/protocol.md "Directory").
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "document/directory.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nyx::Bytes input(data, size);
  auto dir = nyx::document::Directory::parse(input);
  if (dir) {
    auto again = dir->encode();
    if (!again || again->size() != size || std::memcmp(again->data(), data, size) != 0) {
      std::abort();
    }
  }
  nyx::document::DirectoryTrust trust;
  trust.authorities.push_back({});
  (void)nyx::document::verify_directory(input, trust, 1500);
  return 0;
}
