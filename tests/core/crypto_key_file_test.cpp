#include <array>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/crypto/key_file.hpp"
#include "support/temp_dir.hpp"

namespace nyx::crypto {
namespace {

namespace fs = std::filesystem;

class KeyFileTest : public ::testing::Test {
 protected:
  static std::array<std::uint8_t, 32> key() {
    std::array<std::uint8_t, 32> k{};
    for (std::size_t i = 0; i < k.size(); ++i) {
      k[i] = static_cast<std::uint8_t>(0xa0 + i);
    }
    return k;
  }
  static mode_t mode_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  void write_plain(const fs::path& path, std::size_t size) const {
    std::ofstream(path, std::ios::binary) << std::string(size, 'k');
  }

  test::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(KeyFileTest, WritesMode0600AndReadsBack) {
  const auto path = dir_ / "identity.key";
  ::umask(0);  // even with a permissive umask the file must be private
  ASSERT_TRUE(write_key_file(path, key()));
  ::umask(022);
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(fs::file_size(path), 32u);

  auto secret = read_secret_key_file<32>(path);
  ASSERT_TRUE(secret) << secret.error().to_string();
  const auto expected = key();
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), secret->data()));
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(KeyFileTest, OverwritesAnExistingKey) {
  const auto path = dir_ / "identity.key";
  write_plain(path, 32);
  ASSERT_TRUE(write_key_file(path, key()));
  EXPECT_EQ(mode_of(path), 0600u);
  auto secret = read_secret_key_file<32>(path);
  ASSERT_TRUE(secret);
  EXPECT_EQ(secret->data()[0], 0xa0);
}

TEST_F(KeyFileTest, RefusesGroupOrWorldReadableFiles) {
  const auto path = dir_ / "loose.key";
  ASSERT_TRUE(write_key_file(path, key()));
  for (mode_t mode : {0644u, 0640u, 0604u, 0660u}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    const auto secret = read_secret_key_file<32>(path);
    ASSERT_FALSE(secret) << std::oct << mode;
    EXPECT_EQ(secret.error().category, ErrorCategory::kPermission);
    EXPECT_NE(secret.error().message.find(path.string()), std::string::npos)
        << secret.error().message;
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(read_secret_key_file<32>(path));
}

TEST_F(KeyFileTest, RefusesSymlinksDirectoriesAndWrongSizes) {
  const auto target = dir_ / "real.key";
  ASSERT_TRUE(write_key_file(target, key()));
  const auto link = dir_ / "link.key";
  fs::create_symlink(target, link);
  auto result = read_secret_key_file<32>(link);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category, ErrorCategory::kPermission);
  EXPECT_NE(result.error().message.find("link.key"), std::string::npos);

  const auto sub = dir_ / "sub";
  fs::create_directory(sub);
  fs::permissions(sub, fs::perms::owner_all);
  result = read_secret_key_file<32>(sub);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category, ErrorCategory::kPermission);

  const auto short_file = dir_ / "short.key";
  write_plain(short_file, 31);
  fs::permissions(short_file, fs::perms::owner_read | fs::perms::owner_write);
  result = read_secret_key_file<32>(short_file);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category, ErrorCategory::kParse);
  EXPECT_NE(result.error().message.find("short.key"), std::string::npos);
}

TEST_F(KeyFileTest, MissingFileAndMissingDirectoryNameThePath) {
  const auto missing = dir_ / "missing.key";
  auto result = read_secret_key_file<32>(missing);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category, ErrorCategory::kIo);
  EXPECT_NE(result.error().message.find("missing.key"), std::string::npos);

  const auto status = write_key_file(dir_ / "no-such-dir" / "a.key", key());
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().category, ErrorCategory::kIo);
  EXPECT_NE(status.error().message.find("no-such-dir"), std::string::npos);
}

}  // namespace
}  // namespace nyx::crypto
