#pragma once
// A fresh directory under /tmp, removed with everything in it at the end of
// the test. Short on purpose: Unix socket paths must fit in 108 bytes.

#include <filesystem>
#include <string>
#include <system_error>

#include <stdlib.h>

namespace nyx::test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/nyx-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) {
      path_ = pattern;
    }
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty when mkdtemp failed; tests check it.
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace nyx::test
