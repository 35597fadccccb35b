// The fuzz seeds of the directory stream codecs
// (tests/fuzz/corpus/document_directory_request, document_directory_reply)
// stay what their names say: valid_* decode and re-encode to themselves,
// bad_* are refused. A reply seed starts with the type of the request it
// answers, as the reply fuzz target reads it.
#include <cstdint>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "document/support/fuzz_seed_check.hpp"

namespace nyx::document {
namespace {

std::optional<std::vector<std::uint8_t>> request_again(const std::vector<std::uint8_t>& bytes) {
  auto request = decode_directory_request_at_fin(bytes);
  if (!request) {
    return std::nullopt;
  }
  auto again = encode_directory_request(*request);
  return again ? std::optional(*again) : std::nullopt;
}

std::optional<std::vector<std::uint8_t>> reply_again(const std::vector<std::uint8_t>& bytes) {
  if (bytes.empty()) {
    return std::nullopt;
  }
  const auto type = static_cast<DirectoryRequestType>(bytes[0]);
  auto reply = decode_directory_reply_at_fin(type, Bytes(bytes).subspan(1));
  if (!reply) {
    return std::nullopt;
  }
  auto again = encode_directory_reply(type, *reply);
  if (!again) {
    return std::nullopt;
  }
  again->insert(again->begin(), bytes[0]);
  return *again;
}

TEST(DirectoryStreamFuzzSeeds, AreWhatTheirNamesSay) {
  test::check_fuzz_seeds("document_directory_request", request_again, 6, 5);
  test::check_fuzz_seeds("document_directory_reply", reply_again, 6, 5);
}

}  // namespace
}  // namespace nyx::document
