// Consensus parsing and the freshness table (proposal 0002 sections 3.4 and
// 6.3) on arbitrary bytes: never crashes; whatever parses re-encodes to
// exactly the same bytes; and whatever verify_consensus accepts parses to the
// same consensus.
//
// Each input runs the whole table with a fixed trust set (three authorities,
// t = 2, P = 3600 s, S = 300 s) and a fixed clock inside the lifetime of the
// seeds' period. Random bytes never carry valid authority signatures, so an
// input that parses is tried a second time re-signed by two of the
// configured authorities: then the descriptor signatures (check 8) and the
// accept path (check 9) are reached too.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "document/verify_consensus.hpp"

namespace {

constexpr std::uint64_t kNow = 490'000ull * 3600 + 100;  // the seeds' consensus is in force

nyx::crypto::Ed25519KeyPair authority(std::uint8_t n) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 0xA0;  // the unit tests' authority keys, so their documents make good seeds
  seed[1] = n;
  return nyx::crypto::Ed25519KeyPair::from_seed(seed);
}

struct Fixed {
  std::array<nyx::crypto::Ed25519KeyPair, 3> authorities{authority(1), authority(2), authority(3)};
  nyx::document::ConsensusTrust trust = *nyx::document::ConsensusTrust::make(
      {authorities[0].public_key, authorities[1].public_key, authorities[2].public_key}, 0,
      *nyx::document::Period::from_seconds(3600), 300);
};

const Fixed& fixed() {
  static const Fixed instance;
  return instance;
}

void check_round_trip(const nyx::document::Consensus& consensus, nyx::Bytes input) {
  auto again = consensus.encode();
  if (!again || again->size() != input.size() ||
      std::memcmp(again->data(), input.data(), input.size()) != 0) {
    std::abort();
  }
}

void verify_and_check(nyx::Bytes input) {
  auto verified = nyx::document::verify_consensus(input, fixed().trust, std::nullopt, kNow);
  if (verified) {
    check_round_trip(verified->consensus, input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nyx::Bytes input(data, size);
  auto parsed = nyx::document::Consensus::parse(input);
  verify_and_check(input);
  if (!parsed) {
    return 0;
  }
  check_round_trip(*parsed, input);
  nyx::document::Consensus resigned = *parsed;
  resigned.signatures.clear();
  for (std::size_t i = 0; i < 2; ++i) {
    if (!resigned.sign(fixed().authorities[i])) {
      std::abort();  // the body parsed, so it encodes
    }
  }
  auto bytes = resigned.encode();
  if (!bytes) {
    return 0;  // over kMaxDocument once two signatures replace one
  }
  verify_and_check(*bytes);
  return 0;
}
