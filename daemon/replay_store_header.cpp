#include "daemon/replay_store_header.hpp"

#include <algorithm>
#include <bit>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "core/crypto/encoding.hpp"

namespace nyx::daemon {

namespace {

namespace layout = replay_store_layout;

constexpr std::array<std::uint8_t, 8> kMagic = {'N', 'Y', 'X', 'R', 'P', 'L', 'Y', '1'};

}  // namespace

Result<ReplayStoreHeader> parse_replay_store_header(Bytes page) {
  const auto bad = [](std::string_view why) {
    return make_error(ErrorCategory::kParse, std::string(why));
  };
  if (page.size() != kReplayStoreHeaderSize) {
    return bad(fmt::format("header of {} bytes, not {}", page.size(), kReplayStoreHeaderSize));
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), page.begin())) {
    return bad("bad magic (not a replay store, or another version)");
  }
  ReplayStoreHeader header;
  header.epoch = load_be64(page.data() + layout::kEpochAt);
  std::copy_n(page.data() + layout::kPublicKeyAt, header.public_key.size(),
              header.public_key.begin());
  header.slots = load_be64(page.data() + layout::kSlotsAt);
  header.capacity = load_be64(page.data() + layout::kCapacityAt);
  std::copy_n(page.data() + layout::kHashKeyAt, header.hash_key.size(), header.hash_key.begin());
  std::copy_n(page.data() + layout::kBootIdAt, header.boot_id.size(), header.boot_id.begin());
  if (!std::has_single_bit(header.slots) || header.slots < kReplayStoreMinSlots ||
      header.slots > kReplayStoreMaxSlots) {
    return bad(
        fmt::format("slot count M = {} is not a power of two in [2^10, 2^32]", header.slots));
  }
  if (header.capacity < 1 || header.capacity > header.slots / 2) {
    return bad(
        fmt::format("capacity C = {} is not in [1, M/2 = {}]", header.capacity, header.slots / 2));
  }
  const std::uint8_t state = page[layout::kStateAt];
  if (state != layout::kStateOpen && state != layout::kStateClean) {
    return bad(fmt::format("state byte {} is neither 0 (open) nor 1 (clean)", state));
  }
  header.clean = state == layout::kStateClean;
  const std::uint8_t closed = page[layout::kClosedAt];
  const std::uint8_t reason = page[layout::kClosedReasonAt];
  // The two bytes must agree: a closed key always says why, an accepting
  // one never does.
  if (closed == 0 && reason == 0) {
    header.closed = std::nullopt;
  } else if (closed == 1 && reason >= 1 && reason <= 3) {
    header.closed = static_cast<mix::OnionKeyRing::CloseReason>(reason);
  } else {
    return bad(fmt::format("closed byte {} with closed_reason {} has no meaning", closed, reason));
  }
  const auto reserved = page.subspan(layout::kReservedAt);
  if (const auto it =
          std::find_if(reserved.begin(), reserved.end(), [](std::uint8_t b) { return b != 0; });
      it != reserved.end()) {
    return bad(fmt::format("reserved byte at offset {} is not zero",
                           layout::kReservedAt + static_cast<std::size_t>(it - reserved.begin())));
  }
  return header;
}

void encode_replay_store_header(const ReplayStoreHeader& header,
                                std::span<std::uint8_t, kReplayStoreHeaderSize> page) {
  std::fill(page.begin(), page.end(), 0);
  std::copy(kMagic.begin(), kMagic.end(), page.begin());
  store_be64(page.data() + layout::kEpochAt, header.epoch);
  std::copy(header.public_key.begin(), header.public_key.end(), page.data() + layout::kPublicKeyAt);
  store_be64(page.data() + layout::kSlotsAt, header.slots);
  store_be64(page.data() + layout::kCapacityAt, header.capacity);
  std::copy(header.hash_key.begin(), header.hash_key.end(), page.data() + layout::kHashKeyAt);
  std::copy(header.boot_id.begin(), header.boot_id.end(), page.data() + layout::kBootIdAt);
  page[layout::kStateAt] = header.clean ? layout::kStateClean : layout::kStateOpen;
  page[layout::kClosedAt] = header.closed ? 1 : 0;
  page[layout::kClosedReasonAt] = header.closed ? static_cast<std::uint8_t>(*header.closed) : 0;
}

std::optional<BootId> parse_boot_id(std::string_view text) {
  if (text.ends_with('\n')) {
    text.remove_suffix(1);
  }
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return std::nullopt;
  }
  // A dash anywhere else leaves fewer than 32 digits: refused below.
  std::string digits(text);
  std::erase(digits, '-');
  const auto bytes = crypto::from_hex(digits);
  BootId id{};
  if (!bytes || bytes->size() != id.size()) {
    return std::nullopt;
  }
  std::copy(bytes->begin(), bytes->end(), id.begin());
  // All zeros is what a run that could not read its boot id writes: never
  // take it for a real boot.
  if (id == BootId{}) {
    return std::nullopt;
  }
  return id;
}

std::optional<BootId> read_boot_id(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return std::nullopt;
  }
  return parse_boot_id(line);
}

}  // namespace nyx::daemon
