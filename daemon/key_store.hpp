#pragma once
// KeyStore: the node's long-term keys in its data directory — the Ed25519
// identity (signs its descriptor, names the node), the X25519 link key (the
// transport's Noise static key, how peers name us) and one X25519 onion key
// per epoch (opens circuit CREATEs).
//
// Each key is generated on first use and written 0600 through
// core/crypto/key_file.hpp (atomically), then loaded on every later start; a
// key file that is unreadable, of the wrong size or readable by others is an
// error, never silently replaced. Keys are never logged. One owner, at
// start-up; not thread-safe.

#include <cstdint>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "daemon/data_dir.hpp"

namespace nyx::daemon {

class KeyStore {
 public:
  explicit KeyStore(DataDir dir) : dir_(std::move(dir)) {}

  // The identity key pair (the file holds its 32-byte seed).
  Result<crypto::Ed25519KeyPair> identity() const;
  Result<crypto::X25519KeyPair> link() const;
  Result<crypto::X25519KeyPair> onion(std::uint64_t epoch) const;

  const DataDir& dir() const noexcept { return dir_; }

 private:
  DataDir dir_;
};

}  // namespace nyx::daemon
