#include "daemon/replay_store_file.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/crypto/random.hpp"
#include "mix/onion_key_ring.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using CloseReason = ReplayStoreFile::CloseReason;
using IfMissing = ReplayStoreFile::IfMissing;

constexpr std::uint64_t kEpoch = 482147;
constexpr BootId kThisBoot = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr BootId kOtherBoot = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

mix::ReplayTag tag_of(std::uint32_t n) {
  mix::ReplayTag tag{};
  store_be32(tag.data(), n + 1);  // never the all-zero tag
  tag[15] = 0xa5;
  return tag;
}

std::vector<std::uint8_t> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_at(const std::filesystem::path& path, std::size_t offset,
              std::vector<std::uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

class ReplayStoreFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    crypto::random_bytes(key_);
  }

  ReplayStoreFile::Options options(IfMissing if_missing = IfMissing::kCreate,
                                   std::optional<BootId> boot = kThisBoot) const {
    return {path(), kEpoch, key_, 100, if_missing, boot};
  }
  std::unique_ptr<ReplayStoreFile> open(const ReplayStoreFile::Options& o) const {
    auto store = ReplayStoreFile::open(o);
    EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().to_string());
    return store ? std::move(*store) : nullptr;
  }
  std::unique_ptr<ReplayStoreFile> reopen(std::optional<BootId> boot = kThisBoot) const {
    return open(options(IfMissing::kClose, boot));
  }
  // A store with `n` tags whose process died without closing it: the child
  // writes the tags into the mapping and is killed, so only the page cache
  // holds them.
  void leave_open_with_tags(std::uint32_t n) const {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto store = ReplayStoreFile::open(options());
      for (std::uint32_t i = 0; store && i < n; ++i) {
        (void)(*store)->insert(tag_of(i));
      }
      ::raise(SIGKILL);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  // Closed, saying why and naming the file; it takes no tag, and a key
  // ring that holds it closes the key.
  void expect_closed(ReplayStoreFile& store, CloseReason reason, std::string_view why) const {
    EXPECT_EQ(store.closed_reason(), reason);
    EXPECT_NE(store.problem().find(path().string()), std::string::npos) << store.problem();
    EXPECT_NE(store.problem().find(why), std::string::npos) << store.problem();
    EXPECT_TRUE(store.full());
    EXPECT_FALSE(store.insert(tag_of(999)).has_value());
    EXPECT_FALSE(store.contains(tag_of(999)));
  }

  std::filesystem::path path() const { return tmp_.path() / ReplayStoreFile::file_name(kEpoch); }

  test::TempDir tmp_;
  crypto::X25519PublicKey key_{};
};

TEST_F(ReplayStoreFileTest, CreatesA0600FileOfTheProposedSizeAndLayout) {
  auto store = open(options());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->closed_reason());
  EXPECT_EQ(store->capacity(), 100U);
  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);
  // C = 100 makes M = 2^10, the smallest table: 4096 + 16·1024 bytes.
  EXPECT_EQ(st.st_size, 4096 + 16 * 1024);
  EXPECT_FALSE(std::filesystem::exists(path().string() + ".tmp"));

  const auto bytes = read_all(path());
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "NYXRPLY1");
  EXPECT_EQ(load_be64(bytes.data() + 8), kEpoch);
  EXPECT_TRUE(std::equal(key_.begin(), key_.end(), bytes.begin() + 16));
  EXPECT_EQ(load_be64(bytes.data() + 48), 1024U);
  EXPECT_EQ(load_be64(bytes.data() + 56), 100U);
  EXPECT_TRUE(std::equal(kThisBoot.begin(), kThisBoot.end(), bytes.begin() + 80));
  EXPECT_EQ(bytes[96], 0) << "state: open while in use";
  EXPECT_EQ(bytes[97], 0);
  EXPECT_EQ(bytes[98], 0);
  EXPECT_TRUE(std::all_of(bytes.begin() + 99, bytes.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST_F(ReplayStoreFileTest, TagsSurviveACleanRestart) {
  {
    auto store = open(options());
    ASSERT_TRUE(store);
    for (std::uint32_t i = 0; i < 50; ++i) {
      ASSERT_TRUE(store->insert(tag_of(i)).has_value());
    }
    EXPECT_EQ(store->size(), 50U);
  }
  EXPECT_EQ(read_all(path())[96], 1) << "state: clean after shutdown";
  // Clean survives even a reboot: the slots were synced before the flag.
  for (const auto boot : {std::optional<BootId>(kThisBoot), std::optional<BootId>(kOtherBoot),
                          std::optional<BootId>()}) {
    auto store = reopen(boot);
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->closed_reason()) << store->problem();
    EXPECT_EQ(store->size(), 50U);
    for (std::uint32_t i = 0; i < 50; ++i) {
      EXPECT_TRUE(store->contains(tag_of(i))) << i;
    }
    EXPECT_FALSE(store->contains(tag_of(50)));
  }
}

TEST_F(ReplayStoreFileTest, TagsSurviveAKilledProcessInTheSameBoot) {
  leave_open_with_tags(30);
  EXPECT_EQ(read_all(path())[96], 0) << "never shut down: still marked open";
  auto store = reopen(kThisBoot);
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->closed_reason()) << store->problem();
  EXPECT_EQ(store->size(), 30U);
  for (std::uint32_t i = 0; i < 30; ++i) {
    EXPECT_TRUE(store->contains(tag_of(i))) << i;
  }
  EXPECT_TRUE(store->insert(tag_of(30)).has_value());
}

TEST_F(ReplayStoreFileTest, AnOpenFileFromAnotherBootIsUntrustedAndStaysClosed) {
  leave_open_with_tags(30);
  {
    auto store = reopen(kOtherBoot);
    ASSERT_TRUE(store);
    expect_closed(*store, CloseReason::kUntrusted, "rebooted");
    // What survived still catches replays.
    EXPECT_TRUE(store->contains(tag_of(0)));
  }
  // The closed flag reached the disk before this boot's id did: a second
  // restart in the new boot does not trust the file again.
  const auto bytes = read_all(path());
  EXPECT_EQ(bytes[97], 1);
  EXPECT_EQ(bytes[98], 2);
  for (const auto boot : {std::optional<BootId>(kOtherBoot), std::optional<BootId>(kThisBoot)}) {
    auto store = reopen(boot);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->closed_reason(), CloseReason::kUntrusted);
    EXPECT_NE(store->problem().find("closed in an earlier run (untrusted)"), std::string::npos)
        << store->problem();
    EXPECT_FALSE(store->insert(tag_of(100)).has_value());
  }
}

TEST_F(ReplayStoreFileTest, WithoutABootIdOnlyACleanFileIsTrusted) {
  leave_open_with_tags(5);
  auto store = reopen(std::nullopt);
  ASSERT_TRUE(store);
  expect_closed(*store, CloseReason::kUntrusted, "boot's id cannot be read");
}

TEST_F(ReplayStoreFileTest, AFileOfAnotherEpochOrKeyIsRefused) {
  { ASSERT_TRUE(open(options())); }
  auto other_epoch = options(IfMissing::kClose);
  other_epoch.epoch = kEpoch + 1;
  auto store = open(other_epoch);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->closed_reason(), CloseReason::kUntrusted);
  EXPECT_NE(store->problem().find("belongs to epoch 482147, not 482148"), std::string::npos)
      << store->problem();

  auto other_key = options(IfMissing::kClose);
  other_key.public_key[0] ^= 1;
  store = open(other_key);
  ASSERT_TRUE(store);
  expect_closed(*store, CloseReason::kUntrusted, "another onion key");
}

TEST_F(ReplayStoreFileTest, ACorruptHeaderIsRefusedNeverTakenAsEmpty) {
  struct Case {
    std::size_t offset;
    std::vector<std::uint8_t> bytes;
    std::string_view why;
  };
  const std::vector<Case> cases = {
      {0, {'X'}, "bad magic"},
      {48, {0, 0, 0, 0, 0, 0, 4, 1}, "slot count"},  // M = 1025
      {48, {0, 0, 0, 0, 0, 0, 2, 0}, "slot count"},  // M = 512 < 2^10
      {48, {0, 0, 0, 2, 0, 0, 0, 0}, "slot count"},  // M = 2^33
      {56, {0, 0, 0, 0, 0, 0, 2, 1}, "capacity"},    // C = 513 > M/2
      {56, {0, 0, 0, 0, 0, 0, 0, 0}, "capacity"},    // C = 0
      {96, {7}, "state byte 7"},
      {97, {1, 0}, "closed byte 1 with closed_reason 0"},
      {97, {0, 1}, "closed byte 0 with closed_reason 1"},
      {97, {1, 4}, "closed byte 1 with closed_reason 4"},
      {4095, {1}, "reserved byte at offset 4095"},
      {99, {1}, "reserved byte at offset 99"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.why);
    std::filesystem::remove(path());
    {
      auto store = open(options());
      ASSERT_TRUE(store);
      ASSERT_TRUE(store->insert(tag_of(7)).has_value());
    }
    write_at(path(), c.offset, c.bytes);
    const auto before = read_all(path());
    auto store = reopen();
    ASSERT_TRUE(store);
    expect_closed(*store, CloseReason::kUntrusted, c.why);
    EXPECT_NE(store->problem().find("corrupt header"), std::string::npos);
    store.reset();
    EXPECT_EQ(read_all(path()), before) << "kept as it was, for inspection";
  }
}

TEST_F(ReplayStoreFileTest, ATruncatedOrExtendedFileIsRefused) {
  for (const std::uintmax_t size : {0UL, 100UL, 4096UL, 4096UL + 16 * 1023, 4096UL + 16 * 1025}) {
    SCOPED_TRACE(size);
    std::filesystem::remove(path());
    { ASSERT_TRUE(open(options())); }
    std::filesystem::resize_file(path(), size);
    auto store = reopen();
    ASSERT_TRUE(store);
    expect_closed(*store, CloseReason::kUntrusted, size < 4096 ? "truncated:" : "truncated or");
  }
}

TEST_F(ReplayStoreFileTest, AFileOthersMayAccessOrASymlinkIsRefused) {
  { ASSERT_TRUE(open(options())); }
  ASSERT_EQ(::chmod(path().c_str(), 0620), 0);
  auto store = reopen();
  ASSERT_TRUE(store);
  expect_closed(*store, CloseReason::kUntrusted, "mode 0620");

  const auto real = tmp_.path() / "elsewhere.tags";
  std::filesystem::rename(path(), real);
  ASSERT_EQ(::chmod(real.c_str(), 0600), 0);
  std::filesystem::create_symlink(real, path());
  store = reopen();
  ASSERT_TRUE(store);
  expect_closed(*store, CloseReason::kUntrusted, "symbolic link");
}

TEST_F(ReplayStoreFileTest, AMissingFileOfAKeyHeldBeforeIsClosedStoreMissing) {
  auto store = reopen();
  ASSERT_TRUE(store);
  expect_closed(*store, CloseReason::kStoreMissing, "missing");
  EXPECT_FALSE(std::filesystem::exists(path()));
}

TEST_F(ReplayStoreFileTest, ReportsFullAtCapacityAndStaysFull) {
  auto small = options();
  small.capacity = 3;
  {
    auto store = open(small);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->insert(tag_of(0)).has_value());
    ASSERT_TRUE(store->insert(tag_of(0)).has_value());  // already there: counted once
    ASSERT_TRUE(store->insert(tag_of(1)).has_value());
    EXPECT_FALSE(store->full());
    ASSERT_TRUE(store->insert(tag_of(2)).has_value());
    EXPECT_TRUE(store->full());
    EXPECT_EQ(store->closed_reason(), CloseReason::kFull);
    const auto refused = store->insert(tag_of(3));
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().category, ErrorCategory::kResourceExhausted);
    EXPECT_FALSE(store->contains(tag_of(3)));
    EXPECT_TRUE(store->contains(tag_of(2)));
  }
  auto store = open(small);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->closed_reason(), CloseReason::kFull);
  EXPECT_EQ(store->size(), 3U);
  EXPECT_TRUE(store->problem().empty());
}

TEST_F(ReplayStoreFileTest, TheKeyRingClosesTheKeyOfAFullOrUntrustedStore) {
  auto small = options();
  small.capacity = 1;
  mix::OnionKeyRing ring(
      [&](std::uint64_t, const crypto::X25519PublicKey&) -> std::unique_ptr<mix::ReplayStore> {
        auto store = ReplayStoreFile::open(small);
        return store ? std::move(*store) : nullptr;
      });
  ring.hold(kEpoch, crypto::X25519KeyPair::generate());
  auto* entry = ring.find(kEpoch);
  ASSERT_NE(entry, nullptr);
  EXPECT_FALSE(entry->closed);
  ASSERT_TRUE(ring.record_tag(*entry, tag_of(0)).has_value());
  EXPECT_EQ(entry->closed, mix::OnionKeyRing::CloseReason::kFull);

  // After a restart on another boot the store left open is untrusted, so
  // the key is closed from the start: no fresh CREATE is taken under it.
  ring.erase(kEpoch);
  std::filesystem::remove(path());
  leave_open_with_tags(3);
  mix::OnionKeyRing restarted(
      [&](std::uint64_t, const crypto::X25519PublicKey&) -> std::unique_ptr<mix::ReplayStore> {
        auto store = ReplayStoreFile::open(options(IfMissing::kClose, kOtherBoot));
        return store ? std::move(*store) : nullptr;
      });
  restarted.hold(kEpoch, crypto::X25519KeyPair::generate());
  ASSERT_NE(restarted.find(kEpoch), nullptr);
  EXPECT_TRUE(restarted.find(kEpoch)->closed);
  EXPECT_TRUE(restarted.find(kEpoch)->replay->contains(tag_of(2)));
}

TEST_F(ReplayStoreFileTest, RemoveLeavesNoFile) {
  {
    auto store = open(options());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->insert(tag_of(1)).has_value());
  }
  std::ofstream(path().string() + ".tmp") << "a leftover of a crash during creation";
  ASSERT_TRUE(ReplayStoreFile::remove(path()).has_value());
  EXPECT_FALSE(std::filesystem::exists(path()));
  EXPECT_TRUE(std::filesystem::is_empty(tmp_.path()));
  EXPECT_TRUE(ReplayStoreFile::remove(path()).has_value()) << "already gone is fine";
}

TEST_F(ReplayStoreFileTest, AFailedAllocationIsAnErrorNamingTheFileNotASigbusLater) {
  // posix_fallocate past RLIMIT_FSIZE fails with EFBIG (and SIGXFSZ,
  // ignored here), as it would on a full disk.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 8192;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto store = ReplayStoreFile::open(options());
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().category, ErrorCategory::kIo);
  EXPECT_NE(store.error().message.find("posix_fallocate"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find(path().string()), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(tmp_.path())) << "no file, not even a temporary one";
}

TEST_F(ReplayStoreFileTest, RefusesACapacityOutOfRangeAndTheZeroTag) {
  auto none = options();
  none.capacity = 0;
  EXPECT_EQ(ReplayStoreFile::open(none).error().category, ErrorCategory::kInvalidArgument);
  auto huge = options();
  huge.capacity = (std::uint64_t{1} << 31) + 1;
  EXPECT_EQ(ReplayStoreFile::open(huge).error().category, ErrorCategory::kInvalidArgument);

  auto store = open(options());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->insert(mix::ReplayTag{}).has_value());
  EXPECT_FALSE(store->contains(mix::ReplayTag{}));
  EXPECT_EQ(store->size(), 0U);
}

}  // namespace
}  // namespace nyx::daemon
