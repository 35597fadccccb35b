// Fuzzes the header parser of the replay store file (proposal 0002, section
// 8.2): the first page of replay-<k>.tags, read back from disk at every
// start. Beyond "no crash", an accepted header keeps its bounds (M a power of
// two in [2^10, 2^32], 1 <= C <= M/2) and encodes back to exactly the page
// it was parsed from, so no byte of an accepted page goes unchecked. The
// input's text is also tried as a boot id.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/replay_store_header.hpp"

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
  if (auto header = parse_replay_store_header(in); header) {
    check(size == kReplayStoreHeaderSize);
    check(std::has_single_bit(header->slots) && header->slots >= kReplayStoreMinSlots &&
          header->slots <= kReplayStoreMaxSlots);
    check(header->capacity >= 1 && header->capacity <= header->slots / 2);
    std::array<std::uint8_t, kReplayStoreHeaderSize> page;
    encode_replay_store_header(*header, page);
    check(std::equal(page.begin(), page.end(), in.begin()));
  }
  if (auto id = parse_boot_id(std::string_view(reinterpret_cast<const char*>(data), size)); id) {
    check(*id != BootId{});
  }
  return 0;
}
