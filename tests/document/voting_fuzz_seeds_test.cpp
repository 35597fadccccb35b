// The fuzz seeds of the voting documents (tests/fuzz/corpus/document_vote,
// document_consensus, document_signature_message) stay what their names say:
// valid_* parse and re-encode to themselves, bad_* are refused.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "document/consensus.hpp"
#include "document/signature_message.hpp"
#include "document/vote.hpp"

namespace nyx::document {
namespace {

// Calls `round_trip` on every seed of `target`: the re-encoding, or nothing
// when the parser refuses the bytes.
template <class RoundTrip>
void check_seeds(const std::string& target, RoundTrip round_trip) {
  const auto corpus =
      std::filesystem::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus" / target;
  ASSERT_TRUE(std::filesystem::is_directory(corpus)) << corpus;
  int valid = 0;
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
    }
  }
  EXPECT_GE(valid, 2) << target;
}

template <class Document>
std::optional<std::vector<std::uint8_t>> reencoded(const std::vector<std::uint8_t>& bytes) {
  auto parsed = Document::parse(bytes);
  if (!parsed) {
    return std::nullopt;
  }
  auto again = parsed->encode();
  if (!again) {
    return std::nullopt;
  }
  return std::vector<std::uint8_t>(again->begin(), again->end());
}

TEST(VotingFuzzSeeds, AreWhatTheirNamesSay) {
  check_seeds("document_vote", reencoded<Vote>);
  check_seeds("document_consensus", reencoded<Consensus>);
  check_seeds("document_signature_message", reencoded<SignatureMessage>);
}

}  // namespace
}  // namespace nyx::document
