#include "mix/onion_key_ring.hpp"

#include <vector>

#include "mix/memory_replay_store.hpp"

namespace nyx::mix {

OnionKeyRing::OnionKeyRing(std::size_t replay_capacity)
    : make_store_([replay_capacity](std::uint64_t) {
        return std::make_unique<MemoryReplayStore>(replay_capacity);
      }) {}

void OnionKeyRing::hold(std::uint64_t epoch, crypto::X25519KeyPair key) {
  if (const Entry* held = find(epoch); held != nullptr && held->key.public_key == key.public_key) {
    return;
  }
  Entry entry{epoch, std::move(key), make_store_(epoch), std::nullopt};
  if (erased_.contains(epoch)) {
    entry.closed = CloseReason::kStoreMissing;
  } else if (entry.replay->full()) {
    entry.closed = CloseReason::kFull;
  }
  held_.insert_or_assign(epoch, std::move(entry));
}

void OnionKeyRing::rotate(std::uint64_t epoch, crypto::X25519KeyPair key) {
  hold(epoch, std::move(key));
  epoch_ = epoch;
  std::vector<std::uint64_t> unreachable;
  for (const auto& [held, entry] : held_) {
    if (held + 1 < epoch || held > epoch + 1) {
      unreachable.push_back(held);
    }
  }
  for (const std::uint64_t held : unreachable) {
    erase(held);
  }
}

void OnionKeyRing::erase(std::uint64_t epoch) {
  if (held_.erase(epoch) > 0) {
    erased_.insert(epoch);
  }
}

void OnionKeyRing::close(std::uint64_t epoch, CloseReason reason) {
  if (Entry* entry = find(epoch); entry != nullptr && !entry->closed) {
    entry->closed = reason;
  }
}

OnionKeyRing::Entry* OnionKeyRing::find(std::uint64_t epoch) {
  auto it = held_.find(epoch);
  return it == held_.end() ? nullptr : &it->second;
}

std::array<OnionKeyRing::Entry*, 3> OnionKeyRing::trial_order() {
  // Epoch 0 has no predecessor; unsigned wrap would name the last epoch.
  return {find(epoch_), find(epoch_ + 1), epoch_ > 0 ? find(epoch_ - 1) : nullptr};
}

Status OnionKeyRing::record_tag(Entry& entry, const ReplayTag& tag) {
  if (auto stored = entry.replay->insert(tag); !stored) {
    entry.closed = CloseReason::kFull;  // a store that cannot take a tag is full
    return stored;
  }
  if (entry.replay->full()) {
    entry.closed = CloseReason::kFull;
  }
  return {};
}

}  // namespace nyx::mix
