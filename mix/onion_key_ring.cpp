#include "mix/onion_key_ring.hpp"

#include <vector>

#include "mix/memory_replay_store.hpp"

namespace nyx::mix {

OnionKeyRing::OnionKeyRing(std::size_t replay_capacity)
    : make_store_([replay_capacity](std::uint64_t, const crypto::X25519PublicKey&) {
        return std::make_unique<MemoryReplayStore>(replay_capacity);
      }) {}

void OnionKeyRing::set_epoch(std::uint64_t epoch) {
  epoch_ = epoch;
  rotate_early_if_closed();
}

void OnionKeyRing::hold(std::uint64_t epoch, crypto::X25519KeyPair key) {
  if (upcoming_ && upcoming_->epoch == epoch) {
    upcoming_.reset();  // the owner's choice for that epoch wins
  }
  if (const Entry* held = find(epoch); held != nullptr && held->key.public_key == key.public_key) {
    return;
  }
  std::unique_ptr<ReplayStore> store = make_store_(epoch, key.public_key);
  Entry entry{epoch, std::move(key), std::move(store), std::nullopt};
  if (erased_.contains(epoch)) {
    entry.closed = CloseReason::kStoreMissing;
  } else if (entry.replay->full()) {
    entry.closed = CloseReason::kFull;
  }
  held_.insert_or_assign(epoch, std::move(entry));
  rotate_early_if_closed();
}

void OnionKeyRing::set_upcoming(std::uint64_t epoch, crypto::X25519KeyPair key) {
  if (const Entry* held = find(epoch); held != nullptr && held->key.public_key == key.public_key) {
    return;  // already held, early or on time
  }
  upcoming_.emplace(Upcoming{epoch, std::move(key)});
  rotate_early_if_closed();
}

void OnionKeyRing::rotate_early_if_closed() {
  if (upcoming_ && upcoming_->epoch <= epoch_) {
    upcoming_.reset();  // no longer ahead of anything: its secret is zeroed, unused
  }
  const Entry* now = current();
  if (now == nullptr || !now->closed || find(epoch_ + 1) != nullptr || !upcoming_ ||
      upcoming_->epoch != epoch_ + 1) {
    return;
  }
  ++(now->closed == CloseReason::kFull ? early_rotations_.full : early_rotations_.untrusted);
  Upcoming next = std::move(*upcoming_);
  upcoming_.reset();
  hold(next.epoch, std::move(next.key));
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
  rotate_early_if_closed();
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
  rotate_early_if_closed();
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
    close(entry.epoch, CloseReason::kFull);  // a store that cannot take a tag is full
    return stored;
  }
  if (entry.replay->full()) {
    close(entry.epoch, CloseReason::kFull);
  }
  return {};
}

}  // namespace nyx::mix
