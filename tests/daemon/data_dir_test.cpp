#include "daemon/data_dir.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/file_mode.hpp"
#include "support/temp_dir.hpp"

namespace nyx::daemon {
namespace {

using nyx::test::mode_of;

TEST(DataDir, CreatesMissingDirectoryMode0700) {
  test::TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const auto path = tmp.path() / "a" / "data";
  auto dir = DataDir::open(path);
  ASSERT_TRUE(dir.has_value()) << dir.error().message;
  EXPECT_EQ(mode_of(path), 0700U);
  EXPECT_EQ(dir->control_socket(), path / "control.sock");
  EXPECT_EQ(dir->onion_key(7), path / "onion-7.key");
}

TEST(DataDir, AcceptsAnExisting0700Directory) {
  test::TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0700), 0);
  EXPECT_TRUE(DataDir::open(tmp.path()).has_value());
}

TEST(DataDir, Refuses0755WithAClearError) {
  test::TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  auto dir = DataDir::open(tmp.path());
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error().category, ErrorCategory::kPermission);
  EXPECT_NE(dir.error().message.find("0755"), std::string::npos) << dir.error().message;
  EXPECT_NE(dir.error().message.find("chmod 700"), std::string::npos) << dir.error().message;
  EXPECT_NE(dir.error().message.find(tmp.path().string()), std::string::npos);
}

TEST(DataDir, RefusesGroupAccessAndPlainFiles) {
  test::TempDir tmp;
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0710), 0);
  EXPECT_FALSE(DataDir::open(tmp.path()).has_value());
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0700), 0);
  const auto file = tmp.path() / "file";
  std::ofstream(file) << "not a directory";
  auto dir = DataDir::open(file);
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error().category, ErrorCategory::kConfig);
}

TEST(DataDir, GroupAccessMakes0750AndAcceptsItButNeverGroupWriteOrOthers) {
  test::TempDir tmp;
  const auto path = tmp.path() / "data";
  const mode_t previous = ::umask(022);
  auto dir = DataDir::open(path, /*group_access=*/true);
  ::umask(previous);
  ASSERT_TRUE(dir.has_value()) << dir.error().message;
  EXPECT_EQ(mode_of(path), 0750U);
  // Without group access the same directory is refused.
  EXPECT_FALSE(DataDir::open(path).has_value());
  ASSERT_EQ(::chmod(path.c_str(), 0700), 0);
  EXPECT_TRUE(DataDir::open(path, true).has_value());
  for (const mode_t mode : {0770U, 0751U, 0755U}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    auto refused = DataDir::open(path, true);
    ASSERT_FALSE(refused.has_value()) << std::oct << mode;
    EXPECT_NE(refused.error().message.find("chmod 750"), std::string::npos)
        << refused.error().message;
  }
}

}  // namespace
}  // namespace nyx::daemon
