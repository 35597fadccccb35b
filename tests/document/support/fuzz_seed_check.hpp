#pragma once
// The check every document fuzz corpus gets from the document tests: the
// seeds in tests/fuzz/corpus/<target>/ stay what their names say. A valid_*
// seed is accepted and re-encodes to the same bytes; any other seed (bad_*)
// is refused. Header-only because the re-encoding differs per corpus.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace nyx::test {

// Calls `round_trip` on every seed of `target`: it answers the re-encoding,
// or nothing when the parser refuses the bytes. The corpus must hold at
// least `min_valid` valid_* and `min_bad` other seeds, so a corpus that lost
// its seeds fails rather than passing with nothing checked.
template <class RoundTrip>
void check_fuzz_seeds(const std::string& target, RoundTrip round_trip, int min_valid, int min_bad) {
  // This header sits in tests/document/support; the corpora in tests/fuzz.
  const auto corpus = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                      "fuzz" / "corpus" / target;
  ASSERT_TRUE(std::filesystem::is_directory(corpus)) << corpus;
  int valid = 0;
  int bad = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in),
                                          std::istreambuf_iterator<char>()};
    const std::string name = entry.path().filename().string();
    const std::optional<std::vector<std::uint8_t>> again = round_trip(bytes);
    if (name.starts_with("valid_")) {
      ASSERT_TRUE(again) << target << "/" << name;
      EXPECT_EQ(*again, bytes) << target << "/" << name;
      ++valid;
    } else {
      EXPECT_FALSE(again) << target << "/" << name;
      ++bad;
    }
  }
  EXPECT_GE(valid, min_valid) << target;
  EXPECT_GE(bad, min_bad) << target;
}

}  // namespace nyx::test
