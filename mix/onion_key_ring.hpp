#pragma once
// A hop's onion keys: the key of the current epoch and, during the overlap,
// the one before it, each with its own replay cache. Rotating in a new epoch's
// key retires the oldest key and forgets its replay tags (a CREATE made for a
// retired key can no longer be opened, so its tags are no longer needed).
//
// One owner (the relay's shard); not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/crypto/x25519.hpp"
#include "mix/replay_cache.hpp"

namespace nyx::mix {

class OnionKeyRing {
 public:
  struct Entry {
    std::uint64_t epoch;
    crypto::X25519KeyPair key;
    ReplayCache replay;
  };

  explicit OnionKeyRing(std::size_t replay_capacity = 1 << 20)
      : replay_capacity_(replay_capacity) {}

  // Makes `key` current for `epoch`; the previous current key stays usable
  // (overlap) and the one before it retires.
  void rotate(std::uint64_t epoch, crypto::X25519KeyPair key);
  // Retires the previous key once the overlap is over.
  void end_overlap() noexcept { previous_.reset(); }

  Entry* current() noexcept { return current_ ? &*current_ : nullptr; }
  Entry* previous() noexcept { return previous_ ? &*previous_ : nullptr; }

 private:
  std::size_t replay_capacity_;
  std::optional<Entry> current_;
  std::optional<Entry> previous_;
};

}  // namespace nyx::mix
