#include "mix/circuit_crypto.hpp"

#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/random.hpp"
#include "mix/nonce_permutation.hpp"

namespace nyx::mix {
namespace {

// The relays' keys and the client's copies of them, as CREATE leaves them.
struct SharedKeys {
  std::vector<HopKeys> relays;
  std::vector<HopKeys> client;
};

SharedKeys shared_keys(std::size_t n) {
  SharedKeys keys;
  for (std::size_t i = 0; i < n; ++i) {
    std::array<std::uint8_t, 32> secret;
    crypto::random_bytes(secret);
    keys.relays.push_back(HopKeys::derive(secret));
    keys.client.push_back(HopKeys::derive(secret));
  }
  return keys;
}

CellPayload payload_of(Cell& cell) { return cell_payload(cell).subspan<0, kCellPayloadSize>(); }

TEST(NoncePermutation, InverseUndoesForwardAndKeysMatter) {
  std::array<std::uint8_t, 64> key;
  crypto::random_bytes(key);
  NoncePermutation p(key);
  key[0] ^= 1;
  NoncePermutation other(key);
  for (int i = 0; i < 100; ++i) {
    std::array<std::uint8_t, 16> nonce;
    crypto::random_bytes(nonce);
    auto original = nonce;
    p.forward(nonce);
    EXPECT_NE(nonce, original);
    auto permuted = nonce;
    p.inverse(nonce);
    EXPECT_EQ(nonce, original);
    other.forward(nonce);
    EXPECT_NE(nonce, permuted);
  }
}

TEST(CircuitCrypto, NonceAndBodyChangeAtEveryHop) {
  auto hops = shared_keys(3).relays;
  Cell cell{};
  CellPayload payload = payload_of(cell);
  terminal_seal(hops[2], RelayType::kData, std::vector<std::uint8_t>(10, 7), payload);
  for (std::size_t i = 2; i-- > 0;) {
    Cell before = cell;
    relay_layer(hops[i], Direction::kBackward, payload);
    int same_nonce = 0;
    for (std::size_t k = 0; k < kCellNonceSize; ++k) {
      same_nonce += cell[kCellHeaderSize + k] == before[kCellHeaderSize + k] ? 1 : 0;
    }
    EXPECT_LT(same_nonce, 4);
    EXPECT_NE(cell, before);
  }
}

TEST(CircuitCrypto, CellsDecryptOutOfOrder) {
  auto [relays, client_keys] = shared_keys(3);
  ClientOnion client(std::move(client_keys));
  std::vector<Cell> cells(5);
  for (std::size_t c = 0; c < cells.size(); ++c) {
    cells[c].fill(0);
    std::vector<std::uint8_t> data(c + 1, static_cast<std::uint8_t>(c));
    client.seal(RelayType::kData, data, payload_of(cells[c]));
  }
  // Hop 0 sees them in order, hop 1 in reverse, the exit shuffled; one lost.
  for (auto& cell : cells) {
    relay_layer(relays[0], Direction::kForward, payload_of(cell));
  }
  for (std::size_t c = cells.size(); c-- > 0;) {
    relay_layer(relays[1], Direction::kForward, payload_of(cells[c]));
  }
  for (std::size_t c : {3u, 0u, 4u, 1u}) {
    auto message = terminal_open(relays[2], payload_of(cells[c]));
    ASSERT_TRUE(message.has_value());
    EXPECT_EQ(message->data.size(), c + 1);
    EXPECT_EQ(message->data[0], c);
  }
}

TEST(CircuitCrypto, TamperedCellFailsTheEndToEndMac) {
  auto [relays, mine] = shared_keys(2);
  ClientOnion client(std::move(mine));
  Cell cell{};
  client.seal(RelayType::kData, std::vector<std::uint8_t>(100, 1), payload_of(cell));
  cell[kCellHeaderSize + kCellNonceSize + 50] ^= 0x80;  // a bit flip by the entry's link
  relay_layer(relays[0], Direction::kForward, payload_of(cell));
  auto opened = terminal_open(relays[1], payload_of(cell));
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().category, ErrorCategory::kCrypto);

  terminal_seal(relays[1], RelayType::kData, {}, payload_of(cell));
  relay_layer(relays[0], Direction::kBackward, payload_of(cell));
  cell[kCellHeaderSize + 3] ^= 1;  // the nonce this time
  EXPECT_EQ(client.open(payload_of(cell)).error().category, ErrorCategory::kCrypto);
}

// An answer to CREATE sealed by `sealer` as hop `from` seals one (its own
// keys, or a forger's), as the client receives it: hops from-1 .. 0 each add
// their backward layer.
void answer_from(const std::vector<HopKeys>& relays, std::size_t from, const HopKeys& sealer,
                 RelayType type, Bytes data, Cell& cell) {
  terminal_seal(sealer, type, data, payload_of(cell));
  for (std::size_t i = from; i-- > 0;) {
    relay_layer(relays[i], Direction::kBackward, payload_of(cell));
  }
}

constexpr std::array<std::uint8_t, 1> kKeyClosed{
    static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};

TEST(CircuitCrypto, ACreatedOpensUnderTheKeyOfTheHopThatSealedIt) {
  auto [relays, mine] = shared_keys(4);
  ClientOnion client(std::move(mine));
  std::array<std::uint8_t, kRelayPlainSize> plain;
  for (std::size_t hop = 0; hop < relays.size(); ++hop) {
    Cell cell{};
    answer_from(relays, hop, relays[hop], RelayType::kRefused, kKeyClosed, cell);
    auto opened = client.open_created(payload_of(cell), plain);
    ASSERT_TRUE(opened.has_value()) << hop;
    EXPECT_EQ(opened->hop, hop);
    EXPECT_EQ(opened->message.type, RelayType::kRefused);
    ASSERT_EQ(opened->message.data.size(), 1u);
    EXPECT_EQ(opened->message.data[0], kKeyClosed[0]);
  }
  Cell created{};
  answer_from(relays, 3, relays[3], RelayType::kCreated, {}, created);
  auto opened = client.open_created(payload_of(created), plain);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->hop, 3u);
  EXPECT_EQ(opened->message.type, RelayType::kCreated);
}

TEST(CircuitCrypto, ARefusalOpensOnlyUnderItsOwnHopsKeyAtItsOwnPosition) {
  SharedKeys keys = shared_keys(3);
  const std::vector<HopKeys>& relays = keys.relays;
  ClientOnion client(std::move(keys.client));
  std::array<std::uint8_t, kRelayPlainSize> plain;
  auto expect_forged = [&](std::size_t from, const HopKeys& sealer, const char* what) {
    Cell cell{};
    answer_from(relays, from, sealer, RelayType::kRefused, kKeyClosed, cell);
    auto opened = client.open_created(payload_of(cell), plain);
    ASSERT_FALSE(opened.has_value()) << what;
    EXPECT_EQ(opened.error().category, ErrorCategory::kCrypto) << what;
  };
  const auto stranger = shared_keys(1).relays;
  expect_forged(1, stranger[0], "a key no hop shares with the client");
  // Hop 1 claiming that hop 2 refused: its seal under one layer too many.
  expect_forged(2, relays[1], "hop 1's seal from hop 2's position");
  // Hop 1's seal arriving without hop 0's layer, as if hop 0 had sealed it.
  expect_forged(0, relays[1], "hop 1's seal from hop 0's position");

  Cell flipped{};
  answer_from(relays, 1, relays[1], RelayType::kRefused, kKeyClosed, flipped);
  flipped[kCellHeaderSize + kCellNonceSize + 7] ^= 0x01;
  EXPECT_EQ(client.open_created(payload_of(flipped), plain).error().category,
            ErrorCategory::kCrypto);
}

TEST(RelayCell, PlaintextRoundTripsAndRejectsBadFields) {
  std::array<std::uint8_t, kRelayPlainSize> plain;
  std::vector<std::uint8_t> data(kMaxRelayData, 0x5a);
  encode_relay_plain(RelayType::kDrop, data, plain);
  auto message = decode_relay_plain(plain);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->type, RelayType::kDrop);
  EXPECT_EQ(message->data.size(), kMaxRelayData);
  plain[0] = 9;
  EXPECT_FALSE(decode_relay_plain(plain).has_value());
  plain[0] = 1;
  store_be16(plain.data() + 1, kMaxRelayData + 1);
  EXPECT_FALSE(decode_relay_plain(plain).has_value());
}

}  // namespace
}  // namespace nyx::mix
