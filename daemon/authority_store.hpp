#pragma once
// AuthorityStore: an authority's state on disk (proposal 0002 section 5.7),
// one file per consensus period q, `data_dir/authority/period-<q>.bin`,
// holding AuthorityState::snapshot(q) in the encoding of
// daemon/authority_snapshot_file.hpp: the descriptors accepted for epoch q,
// the votes held for q (its own included, so that a restart pushes the
// stored vote again instead of making a second one), and its own consensus
// with every signature held.
//
// Each save rewrites the period's file atomically (a temporary created 0600
// beside it, fsync, rename, fsync of the directory), so a crash leaves the
// previous state of that period or the new one. At start, restore() reads
// every period file back into the AuthorityState; a file that is damaged,
// belongs to another authority or another period length, or holds a
// document that no longer verifies is refused with an error naming it,
// and the node does not start: dropping it quietly could make the authority
// vote twice. Temporaries a crash left behind are removed at open().
//
// Owned by the node; not thread-safe (the authority's shard calls it). Its
// calls block on the disk.

#include <cstdint>
#include <filesystem>
#include <utility>
#include <vector>

#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/authority_state.hpp"

namespace nyx::daemon {

class AuthorityStore {
 public:
  // `data_dir/authority`, made mode 0700 when missing; kIo when it cannot
  // be made, kConfig when something other than a directory is in the way.
  // `period_seconds` and `authority_key` are this authority's: a file
  // naming others is foreign.
  static Result<AuthorityStore> open(const std::filesystem::path& data_dir,
                                     std::uint32_t period_seconds,
                                     const crypto::Ed25519PublicKey& authority_key);

  const std::filesystem::path& directory() const noexcept { return directory_; }
  std::filesystem::path file_for(std::uint64_t q) const;

  // Writes the snapshot's period file, replacing what was stored for it.
  Status save(const document::AuthoritySnapshot& snapshot);
  // Every stored period, ascending by q. Errors name the file.
  Result<std::vector<document::AuthoritySnapshot>> load() const;
  // load(), then state.restore() of each period; errors name the file.
  Status restore(document::AuthorityState& state) const;
  // Removes the files of periods below `keep_from` (AuthorityState::prune
  // keeps voting_period(now) − 2 and later).
  Status prune_before(std::uint64_t keep_from);

 private:
  AuthorityStore(std::filesystem::path directory, std::uint32_t period_seconds,
                 const crypto::Ed25519PublicKey& authority_key)
      : directory_(std::move(directory)),
        period_seconds_(period_seconds),
        authority_key_(authority_key) {}

  // The period files in the directory, by q.
  Result<std::vector<std::pair<std::uint64_t, std::filesystem::path>>> period_files() const;
  Result<document::AuthoritySnapshot> read(std::uint64_t q,
                                           const std::filesystem::path& path) const;

  std::filesystem::path directory_;
  std::uint32_t period_seconds_;
  crypto::Ed25519PublicKey authority_key_;
};

}  // namespace nyx::daemon
