// Fuzzes the decoder of an authority's period file (proposal 0002 section
// 5.7, daemon/authority_snapshot_file.hpp), which a node reads at start from
// its own disk. Beyond "no crash", it checks that an accepted file encodes
// back to exactly its bytes (one encoding), that every document it yields is
// within its bounds, and that cutting its last byte makes it refused.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "daemon/authority_snapshot_file.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nyx::daemon;
  const nyx::Bytes in(data, size);
  auto decoded = decode_authority_snapshot(in);
  if (!decoded) {
    return 0;
  }
  const auto& snapshot = decoded->snapshot;
  check(snapshot.descriptors.size() <= nyx::document::kMaxEntries);
  check(snapshot.votes.size() <= nyx::document::kMaxAuthorities);
  for (const auto& d : snapshot.descriptors) {
    check(d.size() >= nyx::document::kMinDescriptor && d.size() <= nyx::document::kMaxDescriptor);
  }
  auto encoded = encode_authority_snapshot(*decoded);
  check(encoded.has_value() && *encoded == std::vector<std::uint8_t>(data, data + size));
  check(!decode_authority_snapshot(in.first(size - 1)).has_value());
  return 0;
}
