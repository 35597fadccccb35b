// The fuzz seeds of the voting documents (tests/fuzz/corpus/document_vote,
// document_consensus, document_signature_message) stay what their names say:
// valid_* parse and re-encode to themselves, bad_* are refused.
#include <cstdint>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "document/consensus.hpp"
#include "document/signature_message.hpp"
#include "document/support/fuzz_seed_check.hpp"
#include "document/vote.hpp"

namespace nyx::document {
namespace {

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
  // The voting corpora have no minimum of bad_* seeds.
  test::check_fuzz_seeds("document_vote", reencoded<Vote>, 2, 0);
  test::check_fuzz_seeds("document_consensus", reencoded<Consensus>, 2, 0);
  test::check_fuzz_seeds("document_signature_message", reencoded<SignatureMessage>, 2, 0);
}

}  // namespace
}  // namespace nyx::document
