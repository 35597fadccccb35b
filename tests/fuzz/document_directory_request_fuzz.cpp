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

#include "document/directory_request.hpp"
#include "support/split_invariance.hpp"

using nyx::document::DirectoryRequest;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nyx::Bytes input(data, size);
  nyx::fuzz::check_split_invariance<DirectoryRequest>(
      input, [](nyx::Bytes bytes) { return nyx::document::decode_directory_request(bytes); });
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
