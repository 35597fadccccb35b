#include "cli/text_file.hpp"

#include <fstream>
#include <system_error>

#include <fmt/format.h>

namespace nyx::cli {

Status write_text_file(const std::filesystem::path& file, std::string_view text) {
  const std::filesystem::path temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      return make_error(ErrorCategory::kIo, fmt::format("cannot write {}", temporary.string()));
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    return make_error(ErrorCategory::kIo,
                      fmt::format("cannot write {}: {}", file.string(), ec.message()));
  }
  return {};
}

}  // namespace nyx::cli
