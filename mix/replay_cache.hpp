#pragma once
// The replay cache of one onion key epoch: the tags of every CREATE a hop
// accepted under that key. Bounded: when full it refuses new tags rather
// than forgetting old ones (forgetting would let an old CREATE be replayed);
// it empties when its onion key retires (mix/onion_key_ring.hpp).
//
// One owner; not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <unordered_set>

#include "core/error.hpp"

namespace nyx::mix {

inline constexpr std::size_t kReplayTagSize = 16;
using ReplayTag = std::array<std::uint8_t, kReplayTagSize>;

// Error codes of ReplayCache::insert and of CREATE processing.
enum class CreateErrc : int {
  kReplay = 1,      // kPermission: the tag was seen in this epoch
  kCacheFull = 2,   // kResourceExhausted
  kBadMac = 3,      // kCrypto: no onion key of this hop opens the header
  kBadRouting = 4,  // kProtocol: the routing information is malformed
  kLowOrder = 5,    // kCrypto: alpha is a low-order point
};

class ReplayCache {
 public:
  explicit ReplayCache(std::size_t capacity) : capacity_(capacity) {}

  // Records a tag: kPermission (kReplay) when already present,
  // kResourceExhausted (kCacheFull) when at capacity.
  Status insert(const ReplayTag& tag);
  bool contains(const ReplayTag& tag) const { return tags_.contains(tag); }
  std::size_t size() const noexcept { return tags_.size(); }

 private:
  // Tags are BLAKE2b outputs, so their first bytes are already a good hash.
  struct TagHash {
    std::size_t operator()(const ReplayTag& tag) const noexcept {
      std::size_t h;
      std::memcpy(&h, tag.data(), sizeof h);
      return h;
    }
  };
  std::size_t capacity_;
  std::unordered_set<ReplayTag, TagHash> tags_;
};

}  // namespace nyx::mix
