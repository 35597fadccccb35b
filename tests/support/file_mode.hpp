#pragma once
// A file's permission bits (st_mode & 07777), the one copy the tests that
// check key and data files are 0600/0700 use. A missing file is a test
// failure, and reads as mode 0.

#include <filesystem>

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace nyx::test {

inline unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

}  // namespace nyx::test
