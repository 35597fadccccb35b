#pragma once
// The split check of the directory stream fuzz targets (proposal 0002
// section 4.2): an incremental decoder's answer must not depend on how the
// stream was split. Every prefix of the input is either "need more" (never
// asking past what the whole input decides) or the very error the whole
// input gives; a breach aborts, which libFuzzer reports as a crash.
// Included by path relative to tests/fuzz, since each target is one .cpp.

#include <cstddef>
#include <cstdlib>
#include <variant>

#include "core/bytes.hpp"
#include "document/directory_stream.hpp"

namespace nyx::fuzz {

// `decode(bytes)` is the incremental decoder of messages of type T: a
// Result<DecodeProgress<T>>.
template <class T, class Decode>
void check_split_invariance(Bytes input, Decode decode) {
  auto whole = decode(input);
  const auto* decoded = whole ? std::get_if<document::Decoded<T>>(&*whole) : nullptr;
  // Past the end of a complete message nothing is read, so only shorter
  // prefixes can differ from the whole.
  const std::size_t end = decoded != nullptr ? decoded->consumed : input.size();
  for (std::size_t cut = 0; cut < end; ++cut) {
    auto part = decode(input.first(cut));
    if (!part) {
      if (whole || part.error().code != whole.error().code) {
        std::abort();
      }
      continue;
    }
    const auto* need = std::get_if<document::NeedMore>(&*part);
    if (need == nullptr || need->bytes == 0 || (decoded != nullptr && cut + need->bytes > end)) {
      std::abort();
    }
  }
}

}  // namespace nyx::fuzz
