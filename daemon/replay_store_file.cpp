#include "daemon/replay_store_file.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto/random.hpp"
#include "core/file_io.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"

namespace nyx::daemon {

static_assert(sizeof(std::size_t) >= 8, "a store of 2^32 slots is mapped whole");

namespace {

using CloseReason = mix::OnionKeyRing::CloseReason;

namespace layout = replay_store_layout;

std::string errno_text(int err) { return std::generic_category().message(err); }

std::string_view reason_name(CloseReason reason) {
  switch (reason) {
    case CloseReason::kFull:
      return "full";
    case CloseReason::kUntrusted:
      return "untrusted";
    case CloseReason::kStoreMissing:
      return "store missing";
  }
  return "closed";
}

bool is_empty_slot(const std::uint8_t* slot) noexcept {
  return load_le64(slot) == 0 && load_le64(slot + 8) == 0;
}

std::uint64_t file_size_for(std::uint64_t slots) {
  return kReplayStoreHeaderSize + mix::kReplayTagSize * slots;
}

}  // namespace

std::string ReplayStoreFile::file_name(std::uint64_t epoch) {
  return fmt::format("replay-{}.tags", epoch);
}

Status ReplayStoreFile::remove(const std::filesystem::path& path) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  for (const auto& name : {path, tmp}) {
    if (::unlink(name.c_str()) != 0 && errno != ENOENT) {
      return file_error("replay store", name, "unlink", errno);
    }
  }
  return fsync_parent_directory(path);
}

ReplayStoreFile::ReplayStoreFile(std::filesystem::path path, int fd, std::uint8_t* map,
                                 std::size_t map_size, const ReplayStoreHeader& header)
    : path_(std::move(path)), fd_(fd), map_(map), map_size_(map_size), header_(header) {}

ReplayStoreFile::~ReplayStoreFile() {
  if (map_ != nullptr) {
    // Clean shutdown (section 8.1): every slot on disk first, then the
    // header that says so.
    if (::msync(map_, map_size_, MS_SYNC) != 0) {
      log::error("replay store {}: msync at shutdown: {}; it stays marked open", path_.string(),
                 errno_text(errno));
    } else {
      map_[layout::kStateAt] = layout::kStateClean;
      if (auto synced = sync_header(); !synced) {
        log::error("{}", synced.error().message);
      }
    }
    ::munmap(map_, map_size_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::unique_ptr<ReplayStoreFile> ReplayStoreFile::without_file(std::filesystem::path path,
                                                               CloseReason reason,
                                                               std::string problem) {
  auto store = std::unique_ptr<ReplayStoreFile>(
      new ReplayStoreFile(std::move(path), -1, nullptr, 0, ReplayStoreHeader{}));
  store->closed_ = reason;
  store->problem_ = std::move(problem);
  return store;
}

Result<std::unique_ptr<ReplayStoreFile>> ReplayStoreFile::open(const Options& options) {
  UniqueFd fd(::open(options.path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() >= 0) {
    return open_existing(options, fd.release());
  }
  const int err = errno;
  if (err == ENOENT && options.if_missing == IfMissing::kCreate) {
    return create(options);
  }
  if (err == ENOENT) {
    return without_file(options.path, CloseReason::kStoreMissing,
                        fmt::format("replay store {}: missing, though its key was held before "
                                    "this start and may have opened CREATEs: the key is closed",
                                    options.path.string()));
  }
  return without_file(
      options.path, CloseReason::kUntrusted,
      fmt::format("replay store {}: cannot be opened: {}: the key is closed", options.path.string(),
                  err == ELOOP ? "it is a symbolic link" : errno_text(err)));
}

Result<std::unique_ptr<ReplayStoreFile>> ReplayStoreFile::create(const Options& options) {
  if (options.capacity < 1 || options.capacity > kReplayStoreMaxSlots / 2) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("replay store {}: capacity {} is not in [1, 2^31]",
                                  options.path.string(), options.capacity));
  }
  ReplayStoreHeader header;
  header.epoch = options.epoch;
  header.public_key = options.public_key;
  header.capacity = options.capacity;
  header.slots = std::max(kReplayStoreMinSlots, std::bit_ceil(2 * options.capacity));
  crypto::random_bytes(header.hash_key);
  header.boot_id = options.boot_id.value_or(BootId{});
  header.clean = false;  // in use from now on
  const std::uint64_t size = file_size_for(header.slots);

  // Made under a temporary name and renamed into place, so that a crash
  // half way leaves no file rather than a truncated one (which would close
  // the key as untrusted). A fixed name: one node owns the data directory,
  // and a leftover from a crash is replaced rather than piling up.
  std::filesystem::path tmp = options.path;
  tmp += ".tmp";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
    return file_error("replay store", tmp, "unlink leftover", errno);
  }
  UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    return file_error("replay store", tmp, "create", errno);
  }
  Status made = [&]() -> Status {
    if (::fchmod(fd.get(), 0600) != 0) {
      return file_error("replay store", tmp, "chmod 0600", errno);
    }
    // Every block allocated now: a store into the mapping can then never
    // meet a full disk, which would be SIGBUS in the middle of a CREATE.
    if (const int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size)); err != 0) {
      return file_error("replay store", tmp, fmt::format("posix_fallocate of {} bytes", size), err);
    }
    std::array<std::uint8_t, kReplayStoreHeaderSize> page;
    encode_replay_store_header(header, page);
    if (auto written = write_all_at(fd.get(), page, 0, tmp); !written) {
      return written;
    }
    if (::fsync(fd.get()) != 0) {
      return file_error("replay store", tmp, "fsync", errno);
    }
    if (::rename(tmp.c_str(), options.path.c_str()) != 0) {
      return file_error("replay store", options.path, "rename into place", errno);
    }
    return fsync_parent_directory(options.path);
  }();
  if (!made) {
    ::unlink(tmp.c_str());
    return std::unexpected(std::move(made.error()));
  }
  void* map = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (map == MAP_FAILED) {
    return file_error("replay store", options.path, "mmap", errno);
  }
  return std::unique_ptr<ReplayStoreFile>(new ReplayStoreFile(
      options.path, fd.release(), static_cast<std::uint8_t*>(map), size, header));
}

namespace {

// What a checked file holds: its header and its size.
struct CheckedFile {
  ReplayStoreHeader header;
  std::uint64_t size = 0;
};

// Checks the file behind `fd` and its header against the key of `options`:
// what it holds, or why it cannot be trusted.
std::expected<CheckedFile, std::string> check_file(int fd,
                                                   const ReplayStoreFile::Options& options) {
  const auto fault = [](std::string why) { return std::unexpected(std::move(why)); };
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return fault(fmt::format("stat: {}", errno_text(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return fault("not a regular file");
  }
  // Whoever else could write it could have removed tags.
  if (st.st_uid != ::geteuid()) {
    return fault(fmt::format("owned by uid {}, not this user", st.st_uid));
  }
  if ((st.st_mode & 077) != 0) {
    return fault(fmt::format("mode {:04o}, not 0600", st.st_mode & 07777));
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < kReplayStoreHeaderSize) {
    return fault(fmt::format("truncated: {} bytes, less than its {}-byte header", file_size,
                             kReplayStoreHeaderSize));
  }
  std::array<std::uint8_t, kReplayStoreHeaderSize> page;
  if (::pread(fd, page.data(), page.size(), 0) != static_cast<ssize_t>(page.size())) {
    return fault("the header cannot be read");
  }
  auto header = parse_replay_store_header(page);
  if (!header) {
    return fault(fmt::format("corrupt header: {}", header.error().message));
  }
  if (header->epoch != options.epoch) {
    return fault(fmt::format("belongs to epoch {}, not {}", header->epoch, options.epoch));
  }
  if (header->public_key != options.public_key) {
    return fault(fmt::format("belongs to another onion key of epoch {}", options.epoch));
  }
  if (file_size != file_size_for(header->slots)) {
    return fault(fmt::format("{} bytes where M = {} slots make {} (truncated or extended)",
                             file_size, header->slots, file_size_for(header->slots)));
  }
  return CheckedFile{*header, file_size};
}

}  // namespace

std::unique_ptr<ReplayStoreFile> ReplayStoreFile::open_existing(const Options& options,
                                                                int raw_fd) {
  UniqueFd fd(raw_fd);
  const auto untrusted = [&](std::string_view why) {
    return without_file(options.path, CloseReason::kUntrusted,
                        fmt::format("replay store {}: {}: the key is closed (the file is kept for "
                                    "inspection until the key is erased)",
                                    options.path.string(), why));
  };
  auto file = check_file(fd.get(), options);
  if (!file) {
    return untrusted(file.error());
  }
  void* map = ::mmap(nullptr, file->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (map == MAP_FAILED) {
    return untrusted(fmt::format("mmap: {}", errno_text(errno)));
  }
  auto store = std::unique_ptr<ReplayStoreFile>(new ReplayStoreFile(
      options.path, fd.release(), static_cast<std::uint8_t*>(map), file->size, file->header));
  store->take_over(options);
  return store;
}

void ReplayStoreFile::take_over(const Options& options) {
  const ReplayStoreHeader found = header_;
  count_ = count_tags();
  // Section 8.1: the page cache survives the process but not the machine.
  const bool same_boot = options.boot_id && found.boot_id == *options.boot_id;
  const bool trusted = found.clean || same_boot;
  closed_ = found.closed;
  if (!trusted) {
    // Its surviving tags still catch the replays they can; a recorded
    // reason is kept, since the key was closed for it before.
    closed_ = found.closed.value_or(CloseReason::kUntrusted);
    problem_ = fmt::format(
        "replay store {}: {}: tags may have been lost: the key is closed", path_.string(),
        options.boot_id ? "not shut down cleanly, and the machine has rebooted since"
                        : "not shut down cleanly, and this boot's id cannot be read");
  } else if (!closed_ && count_ >= found.capacity) {
    closed_ = CloseReason::kFull;
  } else if (closed_ && closed_ != CloseReason::kFull) {
    problem_ = fmt::format("replay store {}: closed in an earlier run ({}): the key stays closed",
                           path_.string(), reason_name(*closed_));
  }
  // The closed flag reaches the disk before the boot id changes: otherwise
  // a second restart in this boot would find the file "open with this
  // boot's id" and trust it again.
  if (closed_ != found.closed) {
    record_closed(*closed_);
    if (auto synced = sync_header(); !synced) {
      problem_ = problem_.empty() ? synced.error().message
                                  : fmt::format("{}; {}", problem_, synced.error().message);
      return;
    }
  }
  map_[layout::kStateAt] = layout::kStateOpen;
  header_.clean = false;
  header_.boot_id = options.boot_id.value_or(BootId{});
  std::copy(header_.boot_id.begin(), header_.boot_id.end(), map_ + layout::kBootIdAt);
  // Section 8.2: synced before the key opens its first CREATE. A store that
  // cannot say on disk that it is in use takes no tag.
  if (auto synced = sync_header(); !synced) {
    if (!closed_) {
      closed_ = CloseReason::kUntrusted;
    }
    problem_ = fmt::format("{}: the key is closed", synced.error().message);
  }
}

std::uint8_t* ReplayStoreFile::slot(std::uint64_t index) const noexcept {
  return map_ + kReplayStoreHeaderSize + index * mix::kReplayTagSize;
}

std::uint64_t ReplayStoreFile::home_slot(const mix::ReplayTag& tag) const noexcept {
  return crypto::siphash24(header_.hash_key, tag) & (header_.slots - 1);
}

std::size_t ReplayStoreFile::count_tags() const noexcept {
  std::size_t count = 0;
  for (std::uint64_t i = 0; i < header_.slots; ++i) {
    if (!is_empty_slot(slot(i))) {
      ++count;
    }
  }
  return count;
}

bool ReplayStoreFile::contains(const mix::ReplayTag& tag) const {
  if (map_ == nullptr || tag == mix::ReplayTag{}) {
    return false;
  }
  // At most M probes: an untrusted file may have no empty slot left.
  std::uint64_t index = home_slot(tag);
  for (std::uint64_t probes = 0; probes < header_.slots; ++probes) {
    const std::uint8_t* s = slot(index);
    if (std::memcmp(s, tag.data(), tag.size()) == 0) {
      return true;
    }
    if (is_empty_slot(s)) {
      return false;
    }
    index = (index + 1) & (header_.slots - 1);
  }
  return false;
}

Status ReplayStoreFile::insert(const mix::ReplayTag& tag) {
  if (tag == mix::ReplayTag{}) {
    return make_error(ErrorCategory::kInvalidArgument, "the zero tag marks an empty slot");
  }
  if (closed_ == CloseReason::kFull) {
    return make_error(ErrorCategory::kResourceExhausted, "replay store full");
  }
  if (closed_) {
    return make_error(ErrorCategory::kClosed, fmt::format("replay store {} is closed ({})",
                                                          path_.string(), reason_name(*closed_)));
  }
  std::uint64_t index = home_slot(tag);
  for (std::uint64_t probes = 0; probes < header_.slots; ++probes) {
    std::uint8_t* s = slot(index);
    if (std::memcmp(s, tag.data(), tag.size()) == 0) {
      return {};
    }
    if (is_empty_slot(s)) {
      std::memcpy(s, tag.data(), tag.size());
      if (++count_ >= header_.capacity) {
        record_closed(CloseReason::kFull);
      }
      return {};
    }
    index = (index + 1) & (header_.slots - 1);
  }
  // Load is at most C/M <= 1/2, so only a change to the file behind this
  // process's back leaves no empty slot.
  record_closed(CloseReason::kUntrusted);
  return make_error(ErrorCategory::kInternal,
                    fmt::format("replay store {}: no empty slot below capacity: the file was "
                                "changed by someone else; the key is closed",
                                path_.string()));
}

void ReplayStoreFile::record_closed(CloseReason reason) noexcept {
  closed_ = reason;
  header_.closed = reason;
  if (map_ != nullptr) {
    map_[layout::kClosedAt] = 1;
    map_[layout::kClosedReasonAt] = static_cast<std::uint8_t>(reason);
  }
}

Status ReplayStoreFile::sync_header() const {
  if (::msync(map_, kReplayStoreHeaderSize, MS_SYNC) != 0) {
    return file_error("replay store", path_, "msync of the header", errno);
  }
  return {};
}

}  // namespace nyx::daemon
