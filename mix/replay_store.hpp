#pragma once
// ReplayStore: the replay tags of one onion key, the tags of every CREATE a
// hop accepted under that key (proposal 0002, sections 7.3 and 8). Exact and
// bounded: it never forgets a tag while its key can open CREATEs, so at its
// capacity it refuses new tags, and the key ring closes the key. A store
// lives and dies with its key (mix/onion_key_ring.hpp). The memory
// implementation is mix/memory_replay_store.hpp; a file-backed one keeps the
// tags across restarts.
//
// One owner; not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/error.hpp"

namespace nyx::mix {

inline constexpr std::size_t kReplayTagSize = 16;
// KDF(s, "mix-create-replay", 16). Sixteen zero bytes mark an empty slot in a
// store, so no CREATE with that tag is accepted (7.3, step 2).
using ReplayTag = std::array<std::uint8_t, kReplayTagSize>;

class ReplayStore {
 public:
  virtual ~ReplayStore() = default;

  virtual bool contains(const ReplayTag& tag) const = 0;
  // Records a tag that is not in the store; kResourceExhausted when the
  // store is full.
  virtual Status insert(const ReplayTag& tag) = 0;
  virtual std::size_t size() const noexcept = 0;
  // The tags it takes at most (C in section 8.3).
  virtual std::size_t capacity() const noexcept = 0;

  bool full() const noexcept { return size() >= capacity(); }
};

}  // namespace nyx::mix
