// Directory stream replies (proposal 0002 section 4.4) on arbitrary bytes,
// for each request type: the first input byte names the type the reply
// answers (1 to 6; other values are skipped), the rest is the reply. Never
// crashes or reads past the input; whatever decodes re-encodes to exactly
// the same bytes; and every prefix of the reply is either "need more" (never
// asking past what the whole reply decides) or the very error the whole
// reply gives, so the answer does not depend on how the stream was split.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "document/directory_reply.hpp"
#include "support/split_invariance.hpp"

using nyx::document::DirectoryReply;
using nyx::document::DirectoryRequestType;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || data[0] < static_cast<std::uint8_t>(DirectoryRequestType::kGetConsensus) ||
      data[0] > static_cast<std::uint8_t>(DirectoryRequestType::kGetSignatures)) {
    return 0;
  }
  const auto type = static_cast<DirectoryRequestType>(data[0]);
  const nyx::Bytes reply(data + 1, size - 1);
  nyx::fuzz::check_split_invariance<DirectoryReply>(reply, [type](nyx::Bytes bytes) {
    return nyx::document::decode_directory_reply(type, bytes);
  });
  auto decoded = nyx::document::decode_directory_reply_at_fin(type, reply);
  if (!decoded) {
    return 0;
  }
  auto again = nyx::document::encode_directory_reply(type, *decoded);
  if (!again || again->size() != reply.size() ||
      std::memcmp(again->data(), reply.data(), reply.size()) != 0) {
    std::abort();
  }
  return 0;
}
