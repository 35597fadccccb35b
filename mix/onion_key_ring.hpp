#pragma once
// A hop's onion keys, held per epoch (proposal 0002, section 7), each with
// its own replay store. CREATE tries the held keys in the order epoch(now),
// epoch(now) + 1, epoch(now) - 1 (trial_order()); the owner, who reads the
// clock, says which epoch is now (set_epoch) and which keys are held when
// (hold, erase), since the key schedule is its business. A held key is
// *accepting* or *closed*: a closed key (its store is full or cannot be
// trusted) still opens CREATEs so that replays are caught, but takes no
// fresh one (section 8.4). When the key of epoch(now) closes, the key of
// epoch(now) + 1, generated ahead and handed over with set_upcoming(), is
// held at once with a fresh store (an early rotation, section 8.4), so fresh
// CREATEs move to it. Dropping a key zeroes its secret (SecretBytes).
//
// One owner (the relay's shard); not thread-safe.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "core/crypto/x25519.hpp"
#include "mix/replay_store.hpp"

namespace nyx::mix {

class OnionKeyRing {
 public:
  // Why a key takes no fresh CREATE (the replay store file's closed_reason).
  enum class CloseReason : std::uint8_t { kFull = 1, kUntrusted = 2, kStoreMissing = 3 };

  struct Entry {
    std::uint64_t epoch;
    crypto::X25519KeyPair key;
    std::unique_ptr<ReplayStore> replay;
    std::optional<CloseReason> closed;  // none: accepting
  };
  // Makes the replay store of a key that becomes held, told the key's public
  // half (a store file records which key its tags belong to, so that it is
  // never trusted for another).
  using StoreFactory = std::function<std::unique_ptr<ReplayStore>(
      std::uint64_t epoch, const crypto::X25519PublicKey& public_key)>;

  // Each held key gets an in-memory store of `replay_capacity` tags.
  explicit OnionKeyRing(std::size_t replay_capacity = 1 << 20);
  explicit OnionKeyRing(StoreFactory make_store) : make_store_(std::move(make_store)) {}

  // Early rotations so far, by why the key of epoch(now) closed (a missing
  // store counts as untrusted: neither can prove which tags the key took).
  struct EarlyRotations {
    std::uint64_t full = 0;
    std::uint64_t untrusted = 0;
  };

  // epoch(now) on the owner's clock. A new epoch(now) whose key is closed
  // starts an early rotation at once, as a close would.
  void set_epoch(std::uint64_t epoch);
  std::uint64_t epoch() const noexcept { return epoch_; }

  // Holds `key` for `epoch` with a fresh store; replaces a different key
  // held for it. The same key held again keeps its store (a fresh one would
  // let every CREATE it took be replayed), and a key of an epoch this ring
  // already erased comes back closed (kStoreMissing): its tags are gone.
  void hold(std::uint64_t epoch, crypto::X25519KeyPair key);
  // For a node whose directory names one epoch: holds `key` for `epoch`,
  // makes it now, and erases every key the trial order can no longer reach
  // (outside epoch - 1 ... epoch + 1).
  void rotate(std::uint64_t epoch, crypto::X25519KeyPair key);
  // The key takes no fresh CREATE from now on (a full store closes itself:
  // record_tag()).
  void close(std::uint64_t epoch, CloseReason reason);
  // Forgets the key and its store; the epoch is remembered as erased.
  void erase(std::uint64_t epoch);
  // The key generated ahead for `epoch` (section 7.1), not held yet: the
  // ring holds it early, with a fresh store, when `epoch` is epoch(now) + 1
  // and the key of epoch(now) is or becomes closed. Otherwise it waits for
  // that, or for the owner's hold() at the key's own time (holding the same
  // key keeps what an early hold made). Replaces an earlier upcoming key;
  // dropped unused once `epoch` is no longer ahead of epoch(now).
  void set_upcoming(std::uint64_t epoch, crypto::X25519KeyPair key);
  const EarlyRotations& early_rotations() const noexcept { return early_rotations_; }

  Entry* find(std::uint64_t epoch);
  Entry* current() { return find(epoch_); }
  std::size_t size() const noexcept { return held_.size(); }

  // The held keys a CREATE tries, in order; absent ones are null.
  std::array<Entry*, 3> trial_order();
  // Stores the tag of a CREATE `entry` opened (the caller checked that it is
  // fresh and the key accepting); the store that reaches its capacity
  // closes the key (kFull).
  Status record_tag(Entry& entry, const ReplayTag& tag);

 private:
  struct Upcoming {
    std::uint64_t epoch;
    crypto::X25519KeyPair key;
  };

  // Section 8.4: when the key of epoch(now) is closed and its successor is
  // not held yet, holds the upcoming key now if it is that successor.
  void rotate_early_if_closed();

  StoreFactory make_store_;
  std::uint64_t epoch_ = 0;
  std::map<std::uint64_t, Entry> held_;
  std::set<std::uint64_t> erased_;  // epochs whose stores are gone
  std::optional<Upcoming> upcoming_;
  EarlyRotations early_rotations_;
};

}  // namespace nyx::mix
