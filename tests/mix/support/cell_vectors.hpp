#pragma once
// Test helper: reads the known-answer vectors that the reference
// implementation of the wide-block cells writes (tests/vectors/
// wide_block_cells.txt). "## title" opens a section; "name = hex" gives a
// value; a line "name =" takes its hex from the indented lines after it.
// Comments ("# …") and the reference's check lines ("ok …") are skipped.
// Depends on core only: tests/mix/support is built into the daemon's tests too.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nyx::test {

class CellVectors {
 public:
  // A gtest failure, and no sections, when the file cannot be read; a gtest
  // failure for each value that is not hex.
  static CellVectors load(const std::string& path);

  std::size_t sections() const noexcept { return sections_.size(); }
  // The value `name` in the first section whose title starts with
  // `section_prefix`; a gtest failure and no bytes when there is none.
  const std::vector<std::uint8_t>& get(std::string_view section_prefix,
                                       std::string_view name) const;

 private:
  struct Section {
    std::string title;
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> values;
  };

  std::vector<Section> sections_;
};

}  // namespace nyx::test
