#include "daemon/onion_key_manager.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto/key_file.hpp"
#include "core/file_io.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"

namespace nyx::daemon {
namespace {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kRetrySeconds = 1;  // after a failed generation or erasure
constexpr std::string_view kKeyPrefix = "onion-";
constexpr std::string_view kKeySuffix = ".key";
constexpr std::string_view kTempInfix = ".key.tmp-";  // crypto::write_key_file's temporaries

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > kNever - b ? kNever : a + b;
}

std::uint64_t unix_seconds(Nanos now) noexcept {
  return now.count() < 0 ? 0 : static_cast<std::uint64_t>(now.count() / 1'000'000'000);
}

Nanos to_nanos(std::uint64_t seconds) noexcept {
  constexpr auto kMaxSeconds = static_cast<std::uint64_t>(Nanos::max().count() / 1'000'000'000);
  return seconds > kMaxSeconds ? Nanos::max() : std::chrono::seconds(seconds);
}

std::string utc_time(std::uint64_t unix_time) {
  return fmt::format("{:%H:%M:%S} UTC", fmt::gmtime(static_cast<std::time_t>(unix_time)));
}

// The epoch `digits` spell, if they spell it as DataDir writes it (no sign,
// no leading zero, below 2^64).
std::optional<std::uint64_t> canonical_epoch(std::string_view digits) {
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) {
    return std::nullopt;
  }
  std::uint64_t epoch = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), epoch);
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return epoch;
}

// "onion-<k>.key" names the key of epoch k.
std::optional<std::uint64_t> key_file_epoch(std::string_view name) {
  if (name.size() < kKeyPrefix.size() + kKeySuffix.size() || !name.starts_with(kKeyPrefix) ||
      !name.ends_with(kKeySuffix)) {
    return std::nullopt;
  }
  name.remove_prefix(kKeyPrefix.size());
  name.remove_suffix(kKeySuffix.size());
  return canonical_epoch(name);
}

// "onion-<k>.key.tmp-<suffix>": what a crash in the middle of writing one leaves.
bool is_key_temporary(std::string_view name) {
  if (!name.starts_with(kKeyPrefix)) {
    return false;
  }
  name.remove_prefix(kKeyPrefix.size());
  const std::size_t infix = name.find(kTempInfix);
  return infix != std::string_view::npos && canonical_epoch(name.substr(0, infix)).has_value();
}

// Overwrites the file with zeros, syncs it, unlinks it and syncs its directory
// (proposal 0002, section 7.2, steps 2 and 3). A missing file is already
// erased. Anything but a regular file whose size `size_ok` accepts is left
// alone: it is not a key this node wrote.
template <class SizeOk>
Status overwrite_and_unlink(const std::filesystem::path& path, SizeOk size_ok) {
  // O_NONBLOCK: opening a FIFO put in the key's place fails instead of waiting.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    return errno == ENOENT ? Status{} : file_error("onion key file", path, "open to erase", errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return file_error("onion key file", path, "stat", errno);
  }
  if (!S_ISREG(st.st_mode) || st.st_size < 0 || !size_ok(static_cast<std::size_t>(st.st_size))) {
    return make_error(ErrorCategory::kPermission,
                      fmt::format("onion key file {}: not a regular file of {} bytes; "
                                  "not erased, remove it by hand",
                                  path.string(), crypto::kX25519KeySize));
  }
  // size_ok() has bounded the size by the key's: one buffer of zeros covers it.
  const std::array<std::uint8_t, crypto::kX25519KeySize> zeros{};
  if (auto overwritten =
          write_all_at(fd.get(), Bytes(zeros).first(static_cast<std::size_t>(st.st_size)), 0, path);
      !overwritten) {
    return overwritten;
  }
  if (::fdatasync(fd.get()) != 0) {
    return file_error("onion key file", path, "fdatasync", errno);
  }
  if (::close(fd.release()) != 0) {
    return file_error("onion key file", path, "close", errno);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return file_error("onion key file", path, "unlink", errno);
  }
  return fsync_parent_directory(path);
}

Status erase_key_file(const std::filesystem::path& path) {
  return overwrite_and_unlink(path,
                              [](std::size_t size) { return size == crypto::kX25519KeySize; });
}

// A temporary of a key write that crashed holds at most the key's bytes.
Status erase_key_temporary(const std::filesystem::path& path) {
  return overwrite_and_unlink(path,
                              [](std::size_t size) { return size <= crypto::kX25519KeySize; });
}

std::filesystem::path replay_store_file(const DataDir& dir, std::uint64_t epoch) {
  return dir.path() / fmt::format("replay-{}.tags", epoch);
}

}  // namespace

Result<OnionKeyManager> OnionKeyManager::open(DataDir dir, Options options, mix::OnionKeyRing& ring,
                                              mix::OnionKeyRing::StoreFactory make_store,
                                              Nanos now) {
  if (auto skew = document::check_clock_skew(options.period, options.clock_skew_seconds); !skew) {
    return std::unexpected(std::move(skew.error()));
  }
  OnionKeyManager manager(std::move(dir), options, ring);
  const std::uint64_t now_seconds = unix_seconds(now);
  manager.now_ = now_seconds;

  // Listed first, erased after: unlinking while iterating leaves what the
  // iterator yields unspecified.
  std::set<std::uint64_t> found;
  std::vector<std::filesystem::path> temporaries;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(manager.dir_.path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (const auto epoch = key_file_epoch(name)) {
      found.insert(*epoch);
    } else if (is_key_temporary(name)) {
      temporaries.push_back(it->path());
    }
  }
  if (ec) {
    return file_error("onion key file", manager.dir_.path(), "list", ec.value());
  }
  for (const auto& temporary : temporaries) {
    if (auto erased = erase_key_temporary(temporary); !erased) {
      return std::unexpected(std::move(erased.error()));
    }
    log::info("onion key: erased {}, left by an interrupted write", temporary.filename().string());
  }
  for (const std::uint64_t epoch : found) {
    if (auto status = manager.load_or_erase(epoch, now_seconds); !status) {
      return std::unexpected(std::move(status.error()));
    }
  }
  ring = mix::OnionKeyRing(std::move(make_store));
  const std::uint64_t epoch = options.period.epoch(now_seconds);
  ring.set_epoch(epoch);
  manager.hand_over_upcoming(epoch);
  return manager;
}

Status OnionKeyManager::load_or_erase(std::uint64_t epoch, std::uint64_t now) {
  if (now >= erased_at(epoch)) {
    return erase_files(epoch);
  }
  auto secret = crypto::read_secret_key_file<crypto::kX25519KeySize>(dir_.onion_key(epoch));
  if (!secret) {
    return std::unexpected(std::move(secret.error()));
  }
  auto pair = crypto::X25519KeyPair::from_secret(secret->span());
  Key key;
  key.public_key = pair.public_key;
  key.waiting = std::move(pair);
  keys_.insert_or_assign(epoch, std::move(key));
  return {};
}

Nanos OnionKeyManager::on_time(Nanos now) {
  const std::uint64_t t = unix_seconds(now);
  now_ = t;
  const document::Period& period = options_.period;
  const std::uint64_t epoch = period.epoch(t);
  if (ring_->epoch() != epoch) {
    switch_epoch(epoch);
  }
  bool failed = false;

  // Erase first: a key past its window must not be held again below.
  std::vector<std::uint64_t> expired;
  for (const auto& [k, key] : keys_) {
    if (t >= erased_at(k)) {
      expired.push_back(k);
    }
  }
  for (const std::uint64_t k : expired) {
    if (auto erased = erase(k); !erased) {
      log::error("onion key of epoch {} not erased yet (retrying): {}", k, erased.error().message);
      failed = true;
    }
  }

  const std::uint64_t target = period.upload_target(t);
  for (const std::uint64_t k : {target, saturating_add(target, 1)}) {
    if (!keys_.contains(k)) {
      if (auto made = generate(k); !made) {
        log::error("onion key of epoch {} not generated (retrying): {}", k, made.error().message);
        failed = true;
      }
    }
  }

  hand_over_upcoming(epoch);
  for (auto& [k, key] : keys_) {
    if (!key.held && key.waiting && t >= held_from(k) && t < erased_at(k)) {
      // If the ring already holds this key early, it keeps that entry's store.
      ring_->hold(k, std::move(*key.waiting));
      key.waiting.reset();
      key.held = true;
    }
  }
  log_early_rotation(epoch);

  std::uint64_t next =
      std::min(period.start(saturating_add(epoch, 1)), period.start(target) - 5 * period.unit());
  for (const auto& [k, key] : keys_) {
    for (const std::uint64_t at : {held_from(k), erased_at(k)}) {
      if (at > t) {
        next = std::min(next, at);
      }
    }
  }
  if (failed) {
    next = std::min(next, saturating_add(t, kRetrySeconds));
  }
  return to_nanos(next);
}

void OnionKeyManager::switch_epoch(std::uint64_t epoch) {
  ring_->set_epoch(epoch);
  if (epoch > 0 && ring_->find(epoch - 1) != nullptr) {
    log::info("onion key of epoch {} is current; epoch {}'s is kept until {} (overlap)", epoch,
              epoch - 1, utc_time(erased_at(epoch - 1)));
  } else if (ring_->find(epoch) != nullptr) {
    log::info("onion key of epoch {} is current", epoch);
  }
}

void OnionKeyManager::hand_over_upcoming(std::uint64_t epoch) {
  const auto it = keys_.find(saturating_add(epoch, 1));
  if (it == keys_.end() || it->second.held || it->second.upcoming || !it->second.waiting) {
    return;
  }
  // The ring needs a key pair of its own: a second SecretBytes, zeroed when
  // the ring drops it, as the one waiting here is when held or erased.
  ring_->set_upcoming(it->first,
                      crypto::X25519KeyPair::from_secret(it->second.waiting->secret.span()));
  it->second.upcoming = true;
}

void OnionKeyManager::log_early_rotation(std::uint64_t epoch) {
  const mix::OnionKeyRing::EarlyRotations& early = ring_->early_rotations();
  const std::uint64_t count = early.full + early.untrusted;
  if (count > early_rotations_seen_) {
    log::warn("onion key of epoch {} is in use early, its forward secrecy is 2P+O",
              saturating_add(epoch, 1));
  }
  early_rotations_seen_ = count;
}

Status OnionKeyManager::generate(std::uint64_t epoch) {
  auto pair = crypto::X25519KeyPair::generate();
  if (auto written = crypto::write_key_file(dir_.onion_key(epoch), pair.secret.span()); !written) {
    return written;
  }
  Key key;
  key.public_key = pair.public_key;
  key.waiting = std::move(pair);
  keys_.insert_or_assign(epoch, std::move(key));
  log::info("onion key of epoch {} generated", epoch);
  return {};
}

Status OnionKeyManager::erase(std::uint64_t epoch) {
  // Step 1: the ring's entry owns the only copy of a held secret, and a
  // waiting one lives here; both are SecretBytes, zeroed when dropped.
  ring_->erase(epoch);
  if (auto it = keys_.find(epoch); it != keys_.end()) {
    it->second.waiting.reset();
    it->second.held = false;
  }
  if (auto erased = erase_files(epoch); !erased) {
    return erased;
  }
  keys_.erase(epoch);
  return {};
}

Status OnionKeyManager::erase_files(std::uint64_t epoch) {
  if (auto erased = erase_key_file(dir_.onion_key(epoch)); !erased) {
    return erased;
  }
  // Step 4: replay tags are one-way images of shared secrets, not secrets:
  // unlinked, not overwritten.
  const std::filesystem::path tags = replay_store_file(dir_, epoch);
  if (::unlink(tags.c_str()) != 0 && errno != ENOENT) {
    return file_error("onion key file", tags, "unlink replay store", errno);
  }
  log::info("onion key of epoch {} erased (memory and disk)", epoch);
  return {};
}

std::optional<OnionKeyManager::PublishedKeys> OnionKeyManager::published() const {
  const std::uint64_t target = options_.period.upload_target(now_);
  const auto current = keys_.find(target);
  const auto next = keys_.find(saturating_add(target, 1));
  if (current == keys_.end() || next == keys_.end()) {
    return std::nullopt;
  }
  return PublishedKeys{target, current->second.public_key, next->second.public_key};
}

std::vector<std::uint64_t> OnionKeyManager::ring_epochs() const {
  std::vector<std::uint64_t> held;
  for (const mix::OnionKeyRing::Entry* entry : ring_->trial_order()) {
    if (entry != nullptr) {
      held.push_back(entry->epoch);
    }
  }
  std::sort(held.begin(), held.end());
  return held;
}

std::uint64_t OnionKeyManager::held_from(std::uint64_t epoch) const noexcept {
  const std::uint64_t start = options_.period.start(epoch);
  return start > options_.clock_skew_seconds ? start - options_.clock_skew_seconds : 0;
}

std::uint64_t OnionKeyManager::erased_at(std::uint64_t epoch) const noexcept {
  const std::uint64_t overlap = options_.clock_skew_seconds + document::kCircuitSetupSeconds;
  return saturating_add(options_.period.start(saturating_add(epoch, 1)), overlap);
}

}  // namespace nyx::daemon
