#pragma once
// ReplayStoreFile: the replay store of one onion key kept in its file
// `replay-<k>.tags` (proposal 0002, section 8.2), so that a restart of the
// relay opens no replay window. The file is mapped MAP_SHARED and each tag is
// written into the mapping before its CREATE is acted on: from that moment it
// is in the kernel's page cache, which outlives the process. No system call
// per tag; the mapping is synced (msync) only when the store is closed down.
//
// Trust (section 8.1): a file shut down cleanly, or left open by a process of
// this same boot, is trusted. One left open by another boot (a power loss or
// kernel crash may have lost dirty pages), or any file whose header does not
// hold, is *untrusted*: its key comes back closed and takes no fresh CREATE.
// A missing file for a key that was already held comes back closed as *store
// missing*. Such a store never becomes an empty store that accepts old tags:
// it refuses every insert and reports itself full, so OnionKeyRing::hold()
// closes its key even if the caller does nothing more; closed_reason() and
// problem() say why, naming the file.
//
// One owner (the key ring's entry); not thread-safe. The destructor syncs the
// mapping and marks the file clean.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "daemon/replay_store_header.hpp"
#include "mix/onion_key_ring.hpp"
#include "mix/replay_store.hpp"

namespace nyx::daemon {

class ReplayStoreFile final : public mix::ReplayStore {
 public:
  using CloseReason = mix::OnionKeyRing::CloseReason;

  // What to do when the file does not exist: the owner knows whether the
  // key's held window started before this process did (section 8.2).
  enum class IfMissing {
    kCreate,  // the window starts now: create the file, trusted and empty
    kClose,   // the key may have opened CREATEs in an earlier run: closed
  };

  struct Options {
    std::filesystem::path path;  // data_dir / file_name(epoch)
    std::uint64_t epoch = 0;
    crypto::X25519PublicKey public_key{};
    // C of a new file (1 to 2^31); an existing file keeps the C it was made
    // with, so a changed mix.replay_rate applies from the next key on.
    std::uint64_t capacity = 0;
    IfMissing if_missing = IfMissing::kClose;
    std::optional<BootId> boot_id;  // this boot's: read_boot_id(), or a test's
  };

  // Opens or creates the store, per section 8.2's table. A store that cannot
  // be trusted comes back closed (closed_reason(), problem()); an error only
  // when a new file cannot be made (kIo naming the file, e.g. no room for
  // posix_fallocate) or the capacity is out of range (kInvalidArgument).
  static Result<std::unique_ptr<ReplayStoreFile>> open(const Options& options);

  ~ReplayStoreFile() override;
  ReplayStoreFile(const ReplayStoreFile&) = delete;
  ReplayStoreFile& operator=(const ReplayStoreFile&) = delete;

  // "replay-<k>.tags".
  static std::string file_name(std::uint64_t epoch);
  // Unlinks the file and fsyncs its directory, when the key is erased
  // (section 7.2: tags are one-way images of the shared secret, not secret,
  // so the file is deleted, not overwritten). A file already gone is fine.
  static Status remove(const std::filesystem::path& path);

  bool contains(const mix::ReplayTag& tag) const override;
  // kResourceExhausted once full, kClosed when the store is closed for
  // another reason, kInvalidArgument for the all-zero tag (the empty slot).
  Status insert(const mix::ReplayTag& tag) override;
  std::size_t size() const noexcept override { return count_; }
  // C while accepting. A closed store takes no more tags, so its capacity is
  // what it holds: full() is then true whatever the reason.
  std::size_t capacity() const noexcept override {
    return closed_ ? count_ : static_cast<std::size_t>(header_.capacity);
  }

  std::optional<CloseReason> closed_reason() const noexcept { return closed_; }
  // Why the store is closed, naming the file, for the owner to log; empty
  // while it accepts or when it is only full.
  const std::string& problem() const noexcept { return problem_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  ReplayStoreFile(std::filesystem::path path, int fd, std::uint8_t* map, std::size_t map_size,
                  const ReplayStoreHeader& header);
  // A closed store with no usable file behind it.
  static std::unique_ptr<ReplayStoreFile> without_file(std::filesystem::path path,
                                                       CloseReason reason, std::string problem);
  static Result<std::unique_ptr<ReplayStoreFile>> create(const Options& options);
  static std::unique_ptr<ReplayStoreFile> open_existing(const Options& options, int fd);
  // Decides, for a file whose header checked out, whether it is trusted,
  // records that on disk and marks it in use by this boot (section 8.2).
  void take_over(const Options& options);

  std::uint8_t* slot(std::uint64_t index) const noexcept;
  std::uint64_t home_slot(const mix::ReplayTag& tag) const noexcept;
  std::size_t count_tags() const noexcept;
  void record_closed(CloseReason reason) noexcept;
  Status sync_header() const;

  std::filesystem::path path_;
  int fd_ = -1;
  std::uint8_t* map_ = nullptr;  // header page then 16·M slot bytes; null without file
  std::size_t map_size_ = 0;
  ReplayStoreHeader header_;
  std::size_t count_ = 0;
  std::optional<CloseReason> closed_;
  std::string problem_;
};

}  // namespace nyx::daemon
