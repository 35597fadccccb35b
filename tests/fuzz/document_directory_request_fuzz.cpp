// Directory stream requests (proposal 0002 section 4.3) on arbitrary bytes:
// never crashes or reads past the input; whatever decodes re-encodes to
// exactly the same bytes; and the incremental decoder's answer does not
// depend on how the stream was split: every prefix of the input is either
// "need more" (never asking past what the whole input decides) or the very
// error the whole input gives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <variant>

#include "document/directory_request.hpp"

namespace {

using nyx::document::Decoded;
using nyx::document::DirectoryRequest;
using nyx::document::NeedMore;

void check_prefixes(nyx::Bytes input) {
  auto whole = nyx::document::decode_directory_request(input);
  const auto* decoded = whole ? std::get_if<Decoded<DirectoryRequest>>(&*whole) : nullptr;
  // Past the end of a complete request nothing is read, so only shorter
  // prefixes can differ from the whole.
  const std::size_t end = decoded != nullptr ? decoded->consumed : input.size();
  for (std::size_t cut = 0; cut < end; ++cut) {
    auto part = nyx::document::decode_directory_request(input.first(cut));
    if (!part) {
      if (whole || part.error().code != whole.error().code) {
        std::abort();
      }
      continue;
    }
    const auto* need = std::get_if<NeedMore>(&*part);
    if (need == nullptr || need->bytes == 0 || (decoded != nullptr && cut + need->bytes > end)) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nyx::Bytes input(data, size);
  check_prefixes(input);
  auto request = nyx::document::decode_directory_request_at_fin(input);
  if (!request) {
    return 0;
  }
  auto again = nyx::document::encode_directory_request(*request);
  if (!again || again->size() != size || std::memcmp(again->data(), data, size) != 0) {
    std::abort();
  }
  return 0;
}
