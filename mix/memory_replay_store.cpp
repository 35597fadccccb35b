#include "mix/memory_replay_store.hpp"

#include <array>

#include "core/crypto/random.hpp"
#include "core/crypto/siphash.hpp"

namespace nyx::mix {

std::size_t MemoryReplayStore::TagHash::operator()(const ReplayTag& tag) const noexcept {
  static const auto key = [] {
    std::array<std::uint8_t, crypto::kSipHashKeySize> k;
    crypto::random_bytes(k);
    return k;
  }();
  return crypto::siphash24(key, tag);
}

Status MemoryReplayStore::insert(const ReplayTag& tag) {
  if (full()) {
    return make_error(ErrorCategory::kResourceExhausted, "replay store full");
  }
  tags_.insert(tag);
  return {};
}

}  // namespace nyx::mix
