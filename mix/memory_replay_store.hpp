#pragma once
// MemoryReplayStore: a ReplayStore in process memory. Its tags are lost when
// the process ends, so it suits tests, benchmarks and keys that never
// outlive the process.
//
// One owner; not thread-safe.

#include <cstddef>
#include <unordered_set>

#include "mix/replay_store.hpp"

namespace nyx::mix {

class MemoryReplayStore final : public ReplayStore {
 public:
  explicit MemoryReplayStore(std::size_t capacity) : capacity_(capacity) {}

  bool contains(const ReplayTag& tag) const override { return tags_.contains(tag); }
  Status insert(const ReplayTag& tag) override;
  std::size_t size() const noexcept override { return tags_.size(); }
  std::size_t capacity() const noexcept override { return capacity_; }

 private:
  // Keyed (SipHash, a key per process): a client knows the tags of its own
  // CREATEs, so it could grind them into one hash bucket if their bytes were
  // the hash (proposal 0002 section 8.2 asks for a keyed index).
  struct TagHash {
    std::size_t operator()(const ReplayTag& tag) const noexcept;
  };
  std::size_t capacity_;
  std::unordered_set<ReplayTag, TagHash> tags_;
};

}  // namespace nyx::mix
