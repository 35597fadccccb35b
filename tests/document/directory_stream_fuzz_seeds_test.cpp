// The fuzz seeds of the directory stream codecs
// (tests/fuzz/corpus/document_directory_request, document_directory_reply)
// stay what their names say: valid_* decode and re-encode to themselves,
// bad_* are refused. A reply seed starts with the type of the request it
// answers, as the reply fuzz target reads it.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"

namespace nyx::document {
namespace {

template <class RoundTrip>
void check_seeds(const std::string& target, RoundTrip round_trip) {
  const auto corpus =
      std::filesystem::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus" / target;
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
  EXPECT_GE(valid, 6) << target;
  EXPECT_GE(bad, 5) << target;
}

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
  check_seeds("document_directory_request", request_again);
  check_seeds("document_directory_reply", reply_again);
}

}  // namespace
}  // namespace nyx::document
