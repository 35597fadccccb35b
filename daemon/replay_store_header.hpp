#pragma once
// The header page of a replay store file `replay-<k>.tags` (proposal 0002,
// section 8.2): its codec, and the boot id it records, which decides whether
// a file left open is trusted after a restart (section 8.1). The mapped store
// itself is daemon/replay_store_file.hpp. Free functions; thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

#include "core/bytes.hpp"
#include "core/crypto/siphash.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "mix/onion_key_ring.hpp"

namespace nyx::daemon {

inline constexpr std::size_t kReplayStoreHeaderSize = 4096;
inline constexpr std::uint64_t kReplayStoreMinSlots = std::uint64_t{1} << 10;
inline constexpr std::uint64_t kReplayStoreMaxSlots = std::uint64_t{1} << 32;

// Where each field sits in the header page. The store writes the state,
// closed and boot id fields straight into its mapping, not through the codec.
namespace replay_store_layout {
inline constexpr std::size_t kEpochAt = 8;  // after the 8-byte magic
inline constexpr std::size_t kPublicKeyAt = 16;
inline constexpr std::size_t kSlotsAt = 48;
inline constexpr std::size_t kCapacityAt = 56;
inline constexpr std::size_t kHashKeyAt = 64;
inline constexpr std::size_t kBootIdAt = 80;
inline constexpr std::size_t kStateAt = 96;
inline constexpr std::size_t kClosedAt = 97;
inline constexpr std::size_t kClosedReasonAt = 98;
inline constexpr std::size_t kReservedAt = 99;  // zeros to the end of the page
inline constexpr std::uint8_t kStateOpen = 0;
inline constexpr std::uint8_t kStateClean = 1;
}  // namespace replay_store_layout

// The kernel's boot id, the 16 bytes of /proc/sys/kernel/random/boot_id.
using BootId = std::array<std::uint8_t, 16>;

// The header page of a replay store file, field by field (section 8.2).
struct ReplayStoreHeader {
  std::uint64_t epoch = 0;
  crypto::X25519PublicKey public_key{};
  std::uint64_t slots = 0;     // M
  std::uint64_t capacity = 0;  // C
  std::array<std::uint8_t, crypto::kSipHashKeySize> hash_key{};
  BootId boot_id{};    // of the boot that last opened the file
  bool clean = false;  // state: false 0 open (in use), true 1 clean
  std::optional<mix::OnionKeyRing::CloseReason> closed;  // none: accepting
};

// Parses a header page (exactly kReplayStoreHeaderSize bytes). kParse naming
// the field for bad magic, M or C out of range, a state, closed or
// closed_reason byte with no meaning, or a non-zero reserved byte. Whether
// the header belongs to the key and to the file's size is the caller's check.
Result<ReplayStoreHeader> parse_replay_store_header(Bytes page);
void encode_replay_store_header(const ReplayStoreHeader& header,
                                std::span<std::uint8_t, kReplayStoreHeaderSize> page);

// The text form of a boot id ("6f1c…-…", 36 characters, an optional newline
// after it); nullopt for anything else or for the all-zero id.
std::optional<BootId> parse_boot_id(std::string_view text);
// This boot's id; nullopt when it cannot be read, and then every store not
// shut down cleanly is untrusted.
std::optional<BootId> read_boot_id(
    const std::filesystem::path& path = "/proc/sys/kernel/random/boot_id");

}  // namespace nyx::daemon
