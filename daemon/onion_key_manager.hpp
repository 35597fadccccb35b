#pragma once
// OnionKeyManager: the relay's onion keys across epochs (proposal 0002,
// section 7), from generation to erasure, on the relay's clock.
//
// The key of epoch k is
//  - generated when the first descriptor names it (the upload for target
//    k - 1, from T_k - 2P - 5u) and written as onion-<k>.key (0600, atomic);
//  - held by the relay's OnionKeyRing from T_k - S (ahead), current from T_k,
//    kept after T_{k+1} for the overlap O = S + T_setup, so that a client
//    whose clock is up to S off still opens circuits with it. A copy of the
//    key of epoch(now) + 1 is handed to the ring (set_upcoming) as soon as
//    it exists, so that the ring itself holds it the moment the key of
//    epoch(now) closes, mid-CREATE (early rotation, section 8.4); holding it
//    again at T_k - S keeps what that early hold made;
//  - erased at T_{k+1} + O: dropped from the ring (its SecretBytes zero the
//    only copy of the secret), the file overwritten with zeros, synced and
//    unlinked, and replay-<k>.tags unlinked (section 7.2). That erasure is
//    the forward secrecy of one-round-trip setup (section 7.4).
//
// Sans-I/O timing: on_time(now) does what is due at `now` and returns when it
// must be called next; the daemon arms a timer for that. `now` is Unix time
// (wall clock), as epochs are. Errors while generating or erasing are logged
// and retried a second later; a key that could not be erased has already
// left the ring and is never used again.
//
// open() first erases every key file past its held window (and the
// temporaries of a write that crashed), then loads the others; a key file it
// cannot read is an error naming the file, never silently replaced.
//
// The manager is the ring's only keeper: open() gives the ring the replay
// store factory (a fresh ring), and nothing else holds or erases its keys.
// It logs an early rotation the ring made at the next on_time(); the relay
// exports the count (nyx_onion_early_rotations_total), so no metric here.
// One owner (the relay's shard); not thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/clock.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "daemon/data_dir.hpp"
#include "document/period.hpp"
#include "mix/onion_key_ring.hpp"

namespace nyx::daemon {

class OnionKeyManager {
 public:
  struct Options {
    document::Period period;           // P, which is also the onion epoch
    std::uint64_t clock_skew_seconds;  // S (directory.clock_skew)
  };
  // What a descriptor for `epoch` carries (proposal 0002, section 3.2).
  struct PublishedKeys {
    std::uint64_t epoch = 0;
    crypto::X25519PublicKey onion_key{};       // of `epoch`
    crypto::X25519PublicKey next_onion_key{};  // of `epoch + 1`

    bool operator==(const PublishedKeys&) const = default;
  };

  // Erases stale key files and loads the others, as of `now` (Unix time).
  // kConfig for a clock skew the period cannot take; the key file's error
  // (naming it) for one that cannot be read or erased. `ring` is replaced by
  // a ring whose replay stores come from `make_store` only on success.
  static Result<OnionKeyManager> open(DataDir dir, Options options, mix::OnionKeyRing& ring,
                                      mix::OnionKeyRing::StoreFactory make_store, Nanos now);

  // Generates, holds, switches and erases what is due at `now`; returns the
  // time of the next thing due (later than `now`).
  Nanos on_time(Nanos now);

  // The keys of the descriptor to upload as of the last on_time(): for
  // upload_target(now) and the epoch after. None while one of them could not
  // be generated.
  std::optional<PublishedKeys> published() const;

  // The epochs the ring holds among those a CREATE tries (its trial order,
  // epoch(now) - 1 ... epoch(now) + 1), ascending, asked of the ring alone;
  // the ring's size() counts any other. For tests and onion_keys.list.
  std::vector<std::uint64_t> ring_epochs() const;

 private:
  struct Key {
    crypto::X25519PublicKey public_key{};
    std::optional<crypto::X25519KeyPair> waiting;  // the secret until the ring holds it
    bool held = false;
    bool upcoming = false;  // a copy was handed to the ring with set_upcoming()
  };

  OnionKeyManager(DataDir dir, Options options, mix::OnionKeyRing& ring)
      : dir_(std::move(dir)), options_(options), ring_(&ring) {}

  Status load_or_erase(std::uint64_t epoch, std::uint64_t now);
  Status generate(std::uint64_t epoch);
  // Drops the key from memory, then erase_files().
  Status erase(std::uint64_t epoch);
  // Overwrites, syncs and unlinks onion-<epoch>.key, unlinks replay-<epoch>.tags.
  Status erase_files(std::uint64_t epoch);
  void switch_epoch(std::uint64_t epoch);
  // Hands the ring a copy of the key of `epoch` + 1, once, if it waits here.
  void hand_over_upcoming(std::uint64_t epoch);
  // Logs an early rotation the ring made since the last call (section 11.4).
  void log_early_rotation(std::uint64_t epoch);

  // When the key of `epoch` is held from, and when it is erased.
  std::uint64_t held_from(std::uint64_t epoch) const noexcept;
  std::uint64_t erased_at(std::uint64_t epoch) const noexcept;

  DataDir dir_;
  Options options_;
  mix::OnionKeyRing* ring_;
  std::map<std::uint64_t, Key> keys_;       // every key file on disk, by epoch
  std::uint64_t early_rotations_seen_ = 0;  // the ring's count at the last on_time()
  std::uint64_t now_ = 0;                   // Unix seconds of the last on_time()
};

}  // namespace nyx::daemon
