#include "core/file_io.hpp"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/unique_fd.hpp"
#include "support/temp_dir.hpp"

namespace nyx {
namespace {

namespace fs = std::filesystem;

class FileIoTest : public ::testing::Test {
 protected:
  std::string contents(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  test::TempDir temp_;
  const fs::path dir_ = temp_.path();
};

TEST_F(FileIoTest, WritesEveryByteAtItsOffsetAndLeavesTheRestAlone) {
  const fs::path path = dir_ / "f";
  { std::ofstream(path, std::ios::binary) << "0123456789"; }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  ASSERT_GE(fd.get(), 0);
  const std::vector<std::uint8_t> data = {'a', 'b', 'c'};
  ASSERT_TRUE(write_all_at(fd.get(), data, 4, path).has_value());
  EXPECT_EQ(contents(path), "0123abc789");
  // Past the end the file grows, as pwrite does.
  ASSERT_TRUE(write_all_at(fd.get(), data, 12, path).has_value());
  EXPECT_EQ(contents(path).substr(10), std::string("\0\0abc", 5));
}

TEST_F(FileIoTest, AFailedWriteIsAnIoErrorNamingTheFileWithItsErrno) {
  const fs::path path = dir_ / "read-only";
  { std::ofstream(path) << "x"; }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_GE(fd.get(), 0);
  const std::vector<std::uint8_t> data = {1};
  auto written = write_all_at(fd.get(), data, 0, path);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().category, ErrorCategory::kIo);
  EXPECT_EQ(written.error().code, EBADF);
  EXPECT_NE(written.error().message.find(path.string()), std::string::npos);
}

TEST_F(FileIoTest, SyncsTheDirectoryHoldingAFile) {
  EXPECT_TRUE(fsync_parent_directory(dir_ / "not-yet-created").has_value());
  auto missing = fsync_parent_directory(dir_ / "no-such-dir" / "f");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().category, ErrorCategory::kIo);
  EXPECT_EQ(missing.error().code, ENOENT);
  EXPECT_NE(missing.error().message.find("no-such-dir"), std::string::npos);
}

TEST(UniqueFd, ClosesWhatItOwnsAndNothingItReleased) {
  const int owned = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(owned, 0);
  { UniqueFd fd(owned); }
  EXPECT_EQ(::fcntl(owned, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);

  const int kept = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(kept, 0);
  {
    UniqueFd fd(kept);
    EXPECT_EQ(fd.release(), kept);
  }
  EXPECT_NE(::fcntl(kept, F_GETFD), -1);
  ::close(kept);
}

}  // namespace
}  // namespace nyx
