#pragma once
// Writing a whole text file so that a reader never sees half of it (the
// directory, descriptors, configs, testnet state). Thread-safe for distinct
// files.

#include <filesystem>
#include <string_view>

#include "core/error.hpp"

namespace nyx::cli {

// Writes `text` to "<file>.tmp", then renames it over `file`. kIo naming the
// path when the system refuses.
Status write_text_file(const std::filesystem::path& file, std::string_view text);

}  // namespace nyx::cli
