#include "daemon/authority_store.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto/encoding.hpp"
#include "core/file_io.hpp"
#include "core/unique_fd.hpp"
#include "daemon/authority_snapshot_file.hpp"

namespace nyx::daemon {
namespace {

constexpr std::string_view kDirectoryName = "authority";
constexpr std::string_view kFilePrefix = "period-";
constexpr std::string_view kFileSuffix = ".bin";
constexpr std::string_view kTempInfix = ".bin.tmp-";

// Whoever reads the log learns what the file is: "authority state <path>: ...".
constexpr std::string_view kFileKind = "authority state";

std::unexpected<Error> refused(ErrorCategory category, const std::filesystem::path& path,
                               std::string_view why) {
  return make_error(category, fmt::format("authority state {}: {}; the authority does not start "
                                          "until it is repaired or moved away",
                                          path.string(), why));
}

// The q that `digits` spell as file_for() writes them (no sign, no leading
// zero, below 2^64).
std::optional<std::uint64_t> canonical_period(std::string_view digits) {
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) {
    return std::nullopt;
  }
  std::uint64_t q = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), q);
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return q;
}

// "period-<q>.bin" names the file of period q.
std::optional<std::uint64_t> period_of(std::string_view name) {
  if (!name.starts_with(kFilePrefix) || !name.ends_with(kFileSuffix)) {
    return std::nullopt;
  }
  name.remove_prefix(kFilePrefix.size());
  name.remove_suffix(kFileSuffix.size());
  return canonical_period(name);
}

// "period-<q>.bin.tmp-<suffix>": what a crash in the middle of a save leaves
// (replace_file_durably's temporary).
bool is_temporary(std::string_view name) {
  if (!name.starts_with(kFilePrefix)) {
    return false;
  }
  name.remove_prefix(kFilePrefix.size());
  const std::size_t infix = name.find(kTempInfix);
  return infix != std::string_view::npos && canonical_period(name.substr(0, infix)).has_value();
}

// The entries of `directory`. Stepped with increment(ec): the range-for of
// directory_iterator throws when reading the directory fails midway.
Result<std::vector<std::filesystem::path>> entries_of(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    out.push_back(it->path());
  }
  if (ec) {
    return file_error(kFileKind, directory, "list", ec.value());
  }
  return out;
}

Result<std::vector<std::uint8_t>> read_whole(const std::filesystem::path& path) {
  // O_NONBLOCK: a FIFO put in the file's place fails instead of waiting.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    return file_error(kFileKind, path, "open", errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return file_error(kFileKind, path, "stat", errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return refused(ErrorCategory::kParse, path, "not a regular file");
  }
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > kMaxAuthoritySnapshot) {
    return refused(ErrorCategory::kParse, path,
                   fmt::format("{} bytes, more than a snapshot can hold", st.st_size));
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return file_error(kFileKind, path, "read", n < 0 ? errno : EIO);
    }
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

}  // namespace

Result<AuthorityStore> AuthorityStore::open(const std::filesystem::path& data_dir,
                                            std::uint32_t period_seconds,
                                            const crypto::Ed25519PublicKey& authority_key) {
  std::filesystem::path directory = data_dir / kDirectoryName;
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return file_error(kFileKind, directory, "create", errno);
  }
  struct stat st {};
  if (::lstat(directory.c_str(), &st) != 0) {
    return file_error(kFileKind, directory, "stat", errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("authority state {}: not a directory", directory.string()));
  }
  auto names = entries_of(directory);
  if (!names) {
    return std::unexpected(std::move(names.error()));
  }
  for (const std::filesystem::path& path : *names) {
    if (is_temporary(path.filename().string()) && ::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return file_error(kFileKind, path, "remove an unfinished save", errno);
    }
  }
  return AuthorityStore(std::move(directory), period_seconds, authority_key);
}

std::filesystem::path AuthorityStore::file_for(std::uint64_t q) const {
  return directory_ / fmt::format("{}{}{}", kFilePrefix, q, kFileSuffix);
}

Status AuthorityStore::save(const document::AuthoritySnapshot& snapshot) {
  auto bytes = encode_authority_snapshot({period_seconds_, authority_key_, snapshot});
  if (!bytes) {
    return make_error(bytes.error().category,
                      fmt::format("authority state {}: {}", file_for(snapshot.q).string(),
                                  bytes.error().message));
  }
  auto written = replace_file_durably(file_for(snapshot.q), *bytes, 0600);
  if (!written) {
    // Its errors name the file but not what it is; the log reader needs both.
    return make_error(written.error().category,
                      fmt::format("{} {}", kFileKind, written.error().message),
                      written.error().code);
  }
  return {};
}

Result<std::vector<std::pair<std::uint64_t, std::filesystem::path>>> AuthorityStore::period_files()
    const {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> files;
  auto names = entries_of(directory_);
  if (!names) {
    return std::unexpected(std::move(names.error()));
  }
  for (std::filesystem::path& path : *names) {
    if (const auto q = period_of(path.filename().string())) {
      files.emplace_back(*q, std::move(path));
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<document::AuthoritySnapshot> AuthorityStore::read(std::uint64_t q,
                                                         const std::filesystem::path& path) const {
  auto bytes = read_whole(path);
  if (!bytes) {
    return std::unexpected(std::move(bytes.error()));
  }
  auto file = decode_authority_snapshot(*bytes);
  if (!file) {
    return refused(ErrorCategory::kParse, path, file.error().message);
  }
  if (file->authority_key != authority_key_) {
    return refused(ErrorCategory::kConfig, path,
                   fmt::format("it belongs to authority {}, not to this one ({})",
                               crypto::to_short_hex(file->authority_key),
                               crypto::to_short_hex(authority_key_)));
  }
  if (file->period_seconds != period_seconds_) {
    return refused(ErrorCategory::kConfig, path,
                   fmt::format("it was written for a period of {} s, this network's is {} s",
                               file->period_seconds, period_seconds_));
  }
  if (file->snapshot.q != q) {
    return refused(ErrorCategory::kParse, path,
                   fmt::format("it holds period {}, its name says {}", file->snapshot.q, q));
  }
  return std::move(file->snapshot);
}

Result<std::vector<document::AuthoritySnapshot>> AuthorityStore::load() const {
  auto files = period_files();
  if (!files) {
    return std::unexpected(std::move(files.error()));
  }
  std::vector<document::AuthoritySnapshot> out;
  for (const auto& [q, path] : *files) {
    auto snapshot = read(q, path);
    if (!snapshot) {
      return std::unexpected(std::move(snapshot.error()));
    }
    out.push_back(std::move(*snapshot));
  }
  return out;
}

Status AuthorityStore::restore(document::AuthorityState& state) const {
  auto snapshots = load();
  if (!snapshots) {
    return std::unexpected(std::move(snapshots.error()));
  }
  for (const document::AuthoritySnapshot& snapshot : *snapshots) {
    if (auto restored = state.restore(snapshot); !restored) {
      return refused(ErrorCategory::kParse, file_for(snapshot.q), restored.error().message);
    }
  }
  return {};
}

Status AuthorityStore::prune_before(std::uint64_t keep_from) {
  auto files = period_files();
  if (!files) {
    return std::unexpected(std::move(files.error()));
  }
  bool removed = false;
  for (const auto& [q, path] : *files) {
    if (q >= keep_from) {
      break;
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return file_error(kFileKind, path, "remove", errno);
    }
    removed = true;
  }
  return removed ? fsync_parent_directory(file_for(keep_from)) : Status{};
}

}  // namespace nyx::daemon
