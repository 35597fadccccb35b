#include "mix/support/cell_vectors.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "core/crypto/encoding.hpp"

namespace nyx::test {
namespace {

std::string_view vector_line_trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

}  // namespace

CellVectors CellVectors::load(const std::string& path) {
  CellVectors vectors;
  std::ifstream file(path);
  if (!file) {
    ADD_FAILURE() << "cannot read the vector file " << path;
    return vectors;
  }
  vectors.sections_.push_back(Section{});  // values before the first title
  std::string open_name;                   // a value whose hex continues on the indented lines
  std::string open_hex;
  auto close_value = [&] {
    if (open_name.empty()) {
      return;
    }
    auto bytes = crypto::from_hex(open_hex);
    EXPECT_TRUE(bytes.has_value()) << "value '" << open_name << "' of " << path << " is not hex";
    vectors.sections_.back().values.emplace_back(std::move(open_name),
                                                 bytes.value_or(std::vector<std::uint8_t>{}));
    open_name.clear();
    open_hex.clear();
  };
  std::string raw;
  while (std::getline(file, raw)) {
    const std::string_view line(raw);
    if (!open_name.empty() && !line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      open_hex += vector_line_trimmed(line);
      continue;
    }
    close_value();
    const std::string_view text = vector_line_trimmed(line);
    if (text.starts_with("## ")) {
      vectors.sections_.push_back(Section{std::string(vector_line_trimmed(text.substr(3))), {}});
    } else if (text.empty() || text.starts_with('#') || text.starts_with("ok ")) {
      continue;
    } else if (text.ends_with('=')) {
      // Names may themselves contain " = " ("input cell = N || B"): the value's
      // "=" is the last character.
      open_name = std::string(vector_line_trimmed(text.substr(0, text.size() - 1)));
    } else if (const auto eq = text.rfind(" = "); eq != std::string_view::npos) {
      open_name = std::string(vector_line_trimmed(text.substr(0, eq)));
      open_hex = std::string(vector_line_trimmed(text.substr(eq + 3)));
      close_value();
    }
  }
  close_value();
  return vectors;
}

const std::vector<std::uint8_t>& CellVectors::get(std::string_view section_prefix,
                                                  std::string_view name) const {
  static const std::vector<std::uint8_t> kNone;
  for (const auto& section : sections_) {
    if (!section.title.starts_with(section_prefix)) {
      continue;
    }
    for (const auto& [value_name, bytes] : section.values) {
      if (value_name == name) {
        return bytes;
      }
    }
    break;
  }
  ADD_FAILURE() << "no value '" << name << "' in a section '" << section_prefix << "…'";
  return kNone;
}

}  // namespace nyx::test
