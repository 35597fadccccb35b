// The per-hop cell crypto (docs/proposals/0001-wide-block-cells.md): the hop
// side byte for byte against the reference implementation's known answers,
// the client side by opening them and by round trips, and the properties of
// the proposal's section 15 (tags, replays, reordering, unlinkability).
// docs/threat-model.md cites these tests by name: keep the names.

#include "mix/circuit_crypto.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto/chacha20.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/poly1305.hpp"
#include "core/crypto/random.hpp"
#include "core/crypto/random_pool.hpp"
#include "core/crypto/secret.hpp"
#include "mix/client_onion.hpp"
#include "mix/support/cell_vectors.hpp"

namespace nyx::mix {
namespace {

using crypto::to_hex;
using test::CellVectors;

using CellBytes = std::array<std::uint8_t, kCellPayloadSize>;
using HeadBytes = std::array<std::uint8_t, kHopHeaderSize>;

constexpr CellCommand kRelay = CellCommand::kRelay;

// A circuit's cell crypto as CREATE leaves it: each relay's keys and forward
// window, and the client with its own copies of the same keys.
struct CryptoPath {
  std::vector<HopKeys> relays;
  std::vector<SlotWindow> windows;
  ClientOnion client;
};

CryptoPath make_crypto_path(std::size_t hops) {
  std::vector<HopKeys> relays;
  std::vector<HopKeys> client;
  for (std::size_t i = 0; i < hops; ++i) {
    const auto secret = crypto::EphemeralSecret<crypto::kX25519KeySize>::random();
    relays.push_back(HopKeys::derive(secret.span()));
    client.push_back(HopKeys::derive(secret.span()));
  }
  return CryptoPath{std::move(relays), std::vector<SlotWindow>(hops),
                    ClientOnion(std::move(client))};
}

// A backward hop's r: fresh for every step, as a relay draws it.
HeadBytes random_r() {
  HeadBytes r;
  crypto::pooled_random_bytes(r);
  return r;
}

std::vector<std::uint8_t> random_datagram(std::size_t size) {
  std::vector<std::uint8_t> data(size);
  crypto::random_bytes(data);
  return data;
}

CellBytes random_cell_bytes() {
  CellBytes bytes;
  crypto::random_bytes(bytes);
  return bytes;
}

CellBytes xored(const CellBytes& cell, const CellBytes& pattern) {
  CellBytes out;
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = cell[i] ^ pattern[i];
  }
  return out;
}

std::size_t equal_byte_count(Bytes a, Bytes b) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    if (a[i] == b[i]) {
      ++same;
    }
  }
  return same;
}

std::vector<std::uint8_t> bytes_of(Bytes bytes) { return {bytes.begin(), bytes.end()}; }

std::string text_of_bytes(Bytes bytes) { return {bytes.begin(), bytes.end()}; }

// Hops [from, to) forward, in place: the first verdict that is not kOk.
CellVerdict forward_through(CryptoPath& path, std::size_t from, std::size_t to, CellBytes& cell) {
  for (std::size_t i = from; i < to; ++i) {
    const auto verdict = relay_forward(path.relays[i].forward, kRelay, path.windows[i], cell);
    if (verdict != CellVerdict::kOk) {
      return verdict;
    }
  }
  return CellVerdict::kOk;
}

// Hops before `below` add their backward layers, nearest first, in place.
void backward_through(const CryptoPath& path, std::size_t below, CellBytes& cell,
                      CellCommand command = kRelay) {
  for (std::size_t i = below; i-- > 0;) {
    relay_backward(path.relays[i].backward, command, random_r(), cell);
  }
}

// What a middle that skipped its header check would forward: the proposal's
// FWD_HOP (section 6.2) without RELAY_FWD's checks, from the public
// primitives, so that a test can play a hop that lets a tagged cell through.
CellBytes unchecked_forward_step(const DirectionKeys& keys, const CellBytes& cell) {
  std::array<std::uint8_t, crypto::kPoly1305Size> h;
  crypto::poly1305(keys.hash.span(), Bytes(cell).subspan(kHopHeaderSize), h);
  HeadBytes head;
  std::copy_n(cell.begin(), kHopHeaderSize, head.begin());
  keys.perm.encipher(h, static_cast<std::uint8_t>(kRelay), head);
  CellBytes out{};
  std::copy(cell.begin() + kHopHeaderSize, cell.end(), out.begin());
  crypto::chacha20_xor(keys.stream.span(), std::span(head).first<crypto::kChaCha20NonceSize>(), 0,
                       out, out);
  return out;
}

// ---------------------------------------------------------------- known answers

CellVectors wide_block_vectors() {
  return CellVectors::load(std::string(NYX_TEST_VECTORS_DIR) + "/wide_block_cells.txt");
}

// Hop i of the vectors derives from s_i = 32i … 32i+31.
HopKeys vector_hop_keys(std::size_t i) {
  std::array<std::uint8_t, crypto::kX25519KeySize> secret;
  std::iota(secret.begin(), secret.end(), static_cast<std::uint8_t>(32 * i));
  return HopKeys::derive(secret);
}

template <std::size_t N>
std::array<std::uint8_t, N> vector_array(const std::vector<std::uint8_t>& bytes) {
  std::array<std::uint8_t, N> out{};
  EXPECT_EQ(bytes.size(), N);
  std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.begin());
  return out;
}

// The window marked the (epoch, slot) of a forward header X.
void expect_marked(const SlotWindow& window, const std::vector<std::uint8_t>& header) {
  const auto x = vector_array<kHopHeaderSize>(header);
  EXPECT_EQ(window.check(load_be64(x.data()) >> 16, load_be16(x.data() + 6)),
            SlotVerdict::kReplayed);
}

HeadBytes counting_tweak_hash() {
  HeadBytes h;
  std::iota(h.begin(), h.end(), std::uint8_t{0});
  return h;
}

void expect_direction_keys(const CellVectors& vectors, const DirectionKeys& keys,
                           const std::string& name) {
  constexpr std::string_view kSection = "keys:";
  EXPECT_EQ(to_hex(keys.stream.span()), to_hex(vectors.get(kSection, name + ".stream"))) << name;
  EXPECT_EQ(to_hex(keys.hash.span()), to_hex(vectors.get(kSection, name + ".hash"))) << name;
  // ET's round keys stay inside the permutation: it must encipher as one
  // built from the vector's round keys does.
  const CellPermutation expected(
      vector_array<kCellPermKeySize>(vectors.get(kSection, name + ".perm")));
  const auto h = counting_tweak_hash();
  for (const std::uint8_t command : std::array<std::uint8_t, 3>{2, 3, 4}) {
    HeadBytes derived = vector_array<kHopHeaderSize>(vectors.get("ET", "ET.in"));
    HeadBytes reference = derived;
    keys.perm.encipher(h, command, derived);
    expected.encipher(h, command, reference);
    EXPECT_EQ(derived, reference) << name << ", command " << int{command};
  }
}

void check_key_vectors(const CellVectors& vectors) {
  for (std::size_t i = 0; i < 3; ++i) {
    const HopKeys keys = vector_hop_keys(i);
    const std::string hop = "hop" + std::to_string(i);
    expect_direction_keys(vectors, keys.forward, hop + ".fwd");
    expect_direction_keys(vectors, keys.backward, hop + ".bwd");
  }
}

void check_et_vector(const CellVectors& vectors, const HopKeys& hop0) {
  const auto h = counting_tweak_hash();
  auto block = vector_array<kHopHeaderSize>(vectors.get("ET", "ET.in"));
  hop0.forward.perm.encipher(h, static_cast<std::uint8_t>(kRelay), block);
  EXPECT_EQ(to_hex(block), to_hex(vectors.get("ET", "ET.enc")));
  hop0.forward.perm.decipher(h, static_cast<std::uint8_t>(kRelay), block);
  EXPECT_EQ(to_hex(block), to_hex(vectors.get("ET", "ET.in")));
}

void check_one_hop_vectors(const CellVectors& vectors, const HopKeys& hop0) {
  constexpr std::string_view kForward = "one hop, forward";
  auto cell = vector_array<kCellPayloadSize>(vectors.get(kForward, "input cell = N || B"));
  SlotWindow window;
  ASSERT_EQ(relay_forward(hop0.forward, kRelay, window, cell), CellVerdict::kOk);
  EXPECT_EQ(to_hex(cell), to_hex(vectors.get(kForward, "output cell = B' || pad")));
  expect_marked(window, vectors.get(kForward, "X (header the hop must find)"));
  expect_marked(window, vectors.get(kForward, "output X"));

  constexpr std::string_view kBackward = "one hop, backward";
  cell = vector_array<kCellPayloadSize>(vectors.get(kBackward, "input cell = L || R || A"));
  relay_backward(hop0.backward, kRelay, vector_array<kHopHeaderSize>(vectors.get(kBackward, "r")),
                 cell);
  EXPECT_EQ(to_hex(cell), to_hex(vectors.get(kBackward, "output cell = r || Y || R'")));
}

void check_three_hops_forward(const CellVectors& vectors, const std::vector<HopKeys>& hops) {
  constexpr std::string_view kSection = "three hops, forward";
  auto cell = vector_array<kCellPayloadSize>(vectors.get(kSection, "cell into hop 0"));
  for (std::size_t i = 0; i < hops.size(); ++i) {
    const std::string index = std::to_string(i);
    EXPECT_EQ(to_hex(cell), to_hex(vectors.get(kSection, "cell into hop " + index)));
    SlotWindow window;
    ASSERT_EQ(relay_forward(hops[i].forward, kRelay, window, cell), CellVerdict::kOk) << i;
    expect_marked(window, vectors.get(kSection, "X_" + index));
  }
  const auto region = std::span(cell).first<kRelayPlainSize>();
  EXPECT_EQ(to_hex(region), to_hex(vectors.get(kSection, "exit plaintext region")));
  EXPECT_EQ(to_hex(region), to_hex(vectors.get(kSection, "plaintext region (891)")));
  const auto message = decode_relay_plain(region);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->type, RelayType::kData);
  EXPECT_EQ(text_of_bytes(message->data),
            "Nyx wide-block cells: a known-answer test of the forward direction.");
}

void check_three_hops_backward(const CellVectors& vectors, const std::vector<HopKeys>& hops) {
  constexpr std::string_view kSection = "three hops, backward";
  const auto origin =
      vector_array<kCellPayloadSize>(vectors.get(kSection, "exit's virtual input X || P || 0^16"));
  const std::uint64_t counter = load_be64(origin.data());
  EXPECT_EQ(counter, 1u);
  const auto plain =
      decode_relay_plain(std::span(origin).subspan<kHopHeaderSize, kRelayPlainSize>());
  ASSERT_TRUE(plain.has_value());
  CellBytes cell{};
  originate(hops[2].backward, kRelay, counter, plain->type, plain->data,
            vector_array<kHopHeaderSize>(vectors.get(kSection, "r_2")), cell);
  EXPECT_EQ(to_hex(cell), to_hex(vectors.get(kSection, "cell out of hop 2")));
  for (std::size_t i = 2; i-- > 0;) {
    const std::string index = std::to_string(i);
    relay_backward(hops[i].backward, kRelay,
                   vector_array<kHopHeaderSize>(vectors.get(kSection, "r_" + index)), cell);
    EXPECT_EQ(to_hex(cell), to_hex(vectors.get(kSection, "cell out of hop " + index)));
  }
  std::vector<HopKeys> client_keys;
  for (std::size_t i = 0; i < hops.size(); ++i) {
    client_keys.push_back(vector_hop_keys(i));
  }
  ClientOnion client(std::move(client_keys));
  RelayMessage message;
  const CellBytes delivered = cell;
  ASSERT_EQ(client.open(cell, message), CellVerdict::kOk);
  EXPECT_EQ(message.type, RelayType::kData);
  EXPECT_EQ(text_of_bytes(message.data),
            "Nyx wide-block cells: a known-answer test of the backward direction.");
  CellBytes again = delivered;
  EXPECT_EQ(client.open(again, message), CellVerdict::kReplayed);  // counter 1 is now marked
}

TEST(CellCrypto, KnownAnswerVectors) {
  const CellVectors vectors = wide_block_vectors();
  ASSERT_GT(vectors.sections(), 1u);
  std::vector<HopKeys> hops;
  for (std::size_t i = 0; i < 3; ++i) {
    hops.push_back(vector_hop_keys(i));
  }
  check_key_vectors(vectors);
  check_et_vector(vectors, hops[0]);
  check_one_hop_vectors(vectors, hops[0]);
  check_three_hops_forward(vectors, hops);
  check_three_hops_backward(vectors, hops);
}

// ---------------------------------------------------------------- round trips

TEST(CellCrypto, RoundTripEveryPathLength) {
  for (std::size_t n = 1; n <= kMaxCellHops; ++n) {
    SCOPED_TRACE(n);
    CryptoPath path = make_crypto_path(n);
    TerminalCrypto exit_crypto(std::move(path.relays.back()));  // hops 0 … n-2 keep theirs
    for (std::size_t k = 0; k < 20; ++k) {
      const RelayType type = k % 2 == 0 ? RelayType::kData : RelayType::kDrop;
      const std::size_t size =
          k == 0 ? kMaxRelayData
                 : crypto::random_uniform(static_cast<std::uint32_t>(kMaxRelayData + 1));
      const auto request = random_datagram(size);
      CellBytes cell{};
      path.client.seal(type, request, cell);
      ASSERT_EQ(forward_through(path, 0, n - 1, cell), CellVerdict::kOk);
      RelayMessage message;
      ASSERT_EQ(exit_crypto.open(kRelay, cell, message), CellVerdict::kOk);
      EXPECT_EQ(message.type, type);
      EXPECT_EQ(bytes_of(message.data), request);

      const auto reply = random_datagram(size);
      exit_crypto.seal(kRelay, type, reply, cell);
      backward_through(path, n - 1, cell);
      ASSERT_EQ(path.client.open(cell, message), CellVerdict::kOk);
      EXPECT_EQ(message.type, type);
      EXPECT_EQ(bytes_of(message.data), reply);
    }
  }
}

// ---------------------------------------------------------------- tagging

TEST(CellCrypto, EveryBitFlipIsDropped) {
  CryptoPath path = make_crypto_path(3);
  CellBytes sealed{};
  path.client.seal(RelayType::kData, random_datagram(100), sealed);
  CellBytes into_middle = sealed;
  ASSERT_EQ(forward_through(path, 0, 1, into_middle), CellVerdict::kOk);
  // Hop 1's window is marked only for a valid header, so one window serves
  // every attempt, and the untouched cell is still fresh after them all.
  std::size_t forward_passed = 0;
  for (std::size_t bit = 0; bit < 8 * kCellPayloadSize; ++bit) {
    CellBytes flipped = into_middle;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    if (relay_forward(path.relays[1].forward, kRelay, path.windows[1], flipped) !=
        CellVerdict::kTampered) {
      ++forward_passed;
    }
  }
  EXPECT_EQ(forward_passed, 0u);
  CellBytes untouched = into_middle;
  EXPECT_EQ(forward_through(path, 1, 3, untouched), CellVerdict::kOk);

  CellBytes from_exit{};
  originate(path.relays[2].backward, kRelay, 0, RelayType::kData, random_datagram(100), random_r(),
            from_exit);
  std::size_t backward_opened = 0;
  RelayMessage message;
  for (std::size_t bit = 0; bit < 8 * kCellPayloadSize; ++bit) {
    CellBytes flipped = from_exit;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    backward_through(path, 2, flipped);
    if (path.client.open(flipped, message) != CellVerdict::kTampered) {
      ++backward_opened;
    }
  }
  EXPECT_EQ(backward_opened, 0u);

  // The command byte is in every tweak: a RELAY cell taken for a CREATED or a
  // DESTROY is a changed cell, in both directions.
  for (const CellCommand other : {CellCommand::kCreated, CellCommand::kDestroy}) {
    CellBytes at_entry = sealed;
    EXPECT_EQ(relay_forward(path.relays[0].forward, other, path.windows[0], at_entry),
              CellVerdict::kTampered);
    CellBytes at_middle = into_middle;
    EXPECT_EQ(relay_forward(path.relays[1].forward, other, path.windows[1], at_middle),
              CellVerdict::kTampered);
  }
  CellBytes relay_as_created = from_exit;
  backward_through(path, 2, relay_as_created);
  ClientOnion::Answer answer;
  EXPECT_EQ(path.client.open_created(relay_as_created, answer), CellVerdict::kTampered);
  CellBytes untouched_back = from_exit;
  backward_through(path, 2, untouched_back);
  EXPECT_EQ(path.client.open(untouched_back, message), CellVerdict::kOk);
}

TEST(CellCrypto, XorPatternCannotBeUndoneForward) {
  CryptoPath path = make_crypto_path(3);
  std::size_t middle_passed = 0;
  std::size_t exit_passed = 0;
  for (int k = 0; k < 1000; ++k) {
    CellBytes cell{};
    path.client.seal(RelayType::kData, random_datagram(64), cell);
    ASSERT_EQ(forward_through(path, 0, 1, cell), CellVerdict::kOk);
    const CellBytes pattern = random_cell_bytes();  // the entry's tag
    CellBytes tagged = xored(cell, pattern);
    if (relay_forward(path.relays[1].forward, kRelay, path.windows[1], tagged) !=
        CellVerdict::kTampered) {
      ++middle_passed;
    }
    // Had the middle let it through, the colluding exit XORs the tag back.
    CellBytes untagged =
        xored(unchecked_forward_step(path.relays[1].forward, xored(cell, pattern)), pattern);
    if (relay_forward(path.relays[2].forward, kRelay, path.windows[2], untagged) !=
        CellVerdict::kTampered) {
      ++exit_passed;
    }
  }
  EXPECT_EQ(middle_passed, 0u);
  EXPECT_EQ(exit_passed, 0u);

  // The emulated middle is the real one on an untagged cell.
  CellBytes cell{};
  path.client.seal(RelayType::kData, random_datagram(64), cell);
  ASSERT_EQ(forward_through(path, 0, 1, cell), CellVerdict::kOk);
  const CellBytes emulated = unchecked_forward_step(path.relays[1].forward, cell);
  ASSERT_EQ(forward_through(path, 1, 2, cell), CellVerdict::kOk);
  EXPECT_EQ(emulated, cell);
  EXPECT_EQ(forward_through(path, 2, 3, cell), CellVerdict::kOk);
}

TEST(CellCrypto, XorPatternCannotBeUndoneBackward) {
  CryptoPath path = make_crypto_path(3);
  std::size_t opened = 0;
  RelayMessage message;
  std::uint64_t counter = 0;
  for (; counter < 1000; ++counter) {
    CellBytes cell{};
    originate(path.relays[2].backward, kRelay, counter, RelayType::kData, random_datagram(64),
              random_r(), cell);
    const CellBytes pattern = random_cell_bytes();  // the exit's tag
    cell = xored(cell, pattern);
    backward_through(path, 2, cell);
    cell = xored(cell, pattern);  // the colluding entry takes it off again
    if (path.client.open(cell, message) != CellVerdict::kTampered) {
      ++opened;
    }
  }
  EXPECT_EQ(opened, 0u);
  CellBytes untagged{};
  originate(path.relays[2].backward, kRelay, counter, RelayType::kData, random_datagram(64),
            random_r(), untagged);
  backward_through(path, 2, untagged);
  EXPECT_EQ(path.client.open(untagged, message), CellVerdict::kOk);
}

// ---------------------------------------------------------------- replay and reordering

TEST(CellCrypto, ReplayedCellIsDroppedAtNextHop) {
  CryptoPath path = make_crypto_path(3);
  CellBytes first{};
  path.client.seal(RelayType::kData, as_bytes("first"), first);
  ASSERT_EQ(forward_through(path, 0, 1, first), CellVerdict::kOk);
  CellBytes replay = first;
  ASSERT_EQ(forward_through(path, 1, 3, first), CellVerdict::kOk);
  EXPECT_EQ(forward_through(path, 1, 2, replay), CellVerdict::kReplayed);

  CellBytes next{};
  path.client.seal(RelayType::kData, as_bytes("next"), next);
  ASSERT_EQ(forward_through(path, 0, 3, next), CellVerdict::kOk);
  const auto message = decode_relay_plain(std::span(next).first<kRelayPlainSize>());
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(text_of_bytes(message->data), "next");
}

// A delivery order of `count` cells in which no cell moves W places or more:
// cell i is sorted by i plus a random offset below W, so two cells W or more
// apart never swap.
std::vector<std::size_t> reordered_within_window(std::size_t count, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> offset(0, kSlotsPerEpoch - 1);
  std::vector<std::size_t> keys(count);
  for (std::size_t i = 0; i < count; ++i) {
    keys[i] = i + offset(rng);
  }
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  return order;
}

struct VerdictCounts {
  std::size_t ok = 0;
  std::size_t replayed = 0;
  std::size_t too_old = 0;
  std::size_t other = 0;
};

// One hop's forward step on every cell, in place, in the given order.
VerdictCounts deliver_cells(const DirectionKeys& keys, SlotWindow& window,
                            std::vector<CellBytes>& cells, const std::vector<std::size_t>& order) {
  VerdictCounts counts;
  for (const std::size_t i : order) {
    switch (relay_forward(keys, kRelay, window, cells[i])) {
      case CellVerdict::kOk:
        ++counts.ok;
        break;
      case CellVerdict::kReplayed:
        ++counts.replayed;
        break;
      case CellVerdict::kTooOld:
        ++counts.too_old;
        break;
      default:
        ++counts.other;
        break;
    }
  }
  return counts;
}

TEST(CellCrypto, ReorderingWithinWindowDeliversOnce) {
  constexpr std::size_t kCells = 3 * kSlotsPerEpoch;  // three epochs at every hop
  CryptoPath path = make_crypto_path(2);
  std::vector<CellBytes> sealed(kCells);
  for (std::size_t i = 0; i < kCells; ++i) {
    std::array<std::uint8_t, 2> index;
    store_be16(index.data(), static_cast<std::uint16_t>(i));
    path.client.seal(RelayType::kData, index, sealed[i]);
  }
  // Each hop receives the cells in an order of its own; hop 1 gets hop 0's output.
  std::mt19937_64 rng(0x6e7978);  // the orders are fixed; the cells are not
  std::vector<CellBytes> cells = sealed;
  EXPECT_EQ(deliver_cells(path.relays[0].forward, path.windows[0], cells,
                          reordered_within_window(kCells, rng))
                .ok,
            kCells);
  std::vector<CellBytes> into_hop1 = cells;
  EXPECT_EQ(deliver_cells(path.relays[1].forward, path.windows[1], cells,
                          reordered_within_window(kCells, rng))
                .ok,
            kCells);
  std::size_t misdelivered = 0;
  for (std::size_t i = 0; i < kCells; ++i) {
    const auto message = decode_relay_plain(std::span(cells[i]).first<kRelayPlainSize>());
    if (!message || message->data.size() != 2 || load_be16(message->data.data()) != i) {
      ++misdelivered;
    }
  }
  EXPECT_EQ(misdelivered, 0u);

  // Every cell again: the first epoch is now two behind the last marked one.
  const std::array<std::vector<CellBytes>*, 2> inputs = {&sealed, &into_hop1};
  for (std::size_t hop = 0; hop < 2; ++hop) {
    const auto again = deliver_cells(path.relays[hop].forward, path.windows[hop], *inputs[hop],
                                     reordered_within_window(kCells, rng));
    EXPECT_EQ(again.ok, 0u) << "hop " << hop;
    EXPECT_EQ(again.too_old, kSlotsPerEpoch) << "hop " << hop;
    EXPECT_EQ(again.replayed, 2 * kSlotsPerEpoch) << "hop " << hop;
    EXPECT_EQ(again.other, 0u) << "hop " << hop;
  }
}

TEST(CellCrypto, BackwardReplayIsRerandomisedAndDroppedByClient) {
  CryptoPath path = make_crypto_path(3);
  CellBytes from_exit{};
  originate(path.relays[2].backward, kRelay, 7, RelayType::kData, as_bytes("once"), random_r(),
            from_exit);
  CellBytes first = from_exit;
  CellBytes replay = from_exit;  // the exit, or a link, sends it to the middle twice
  relay_backward(path.relays[1].backward, kRelay, random_r(), first);
  relay_backward(path.relays[1].backward, kRelay, random_r(), replay);
  // Chance makes about 4 of 1019 bytes equal.
  EXPECT_LE(equal_byte_count(first, replay), 20u);
  backward_through(path, 1, first);
  backward_through(path, 1, replay);
  EXPECT_LE(equal_byte_count(first, replay), 20u);
  RelayMessage message;
  ASSERT_EQ(path.client.open(first, message), CellVerdict::kOk);
  EXPECT_EQ(text_of_bytes(message.data), "once");
  EXPECT_EQ(path.client.open(replay, message), CellVerdict::kReplayed);
}

// ---------------------------------------------------------------- CREATED

TEST(CellCrypto, CreatedFromEachOrigin) {
  constexpr std::size_t kHops = 4;
  CryptoPath path = make_crypto_path(kHops);
  ClientOnion::Answer answer;

  CellBytes created{};
  originate(path.relays[kHops - 1].backward, CellCommand::kCreated, 0, RelayType::kCreated, Bytes{},
            random_r(), created);
  backward_through(path, kHops - 1, created, CellCommand::kCreated);
  ASSERT_EQ(path.client.open_created(created, answer), CellVerdict::kOk);
  EXPECT_EQ(answer.hop, kHops - 1);
  EXPECT_EQ(answer.message.type, RelayType::kCreated);

  const std::array<std::uint8_t, 1> reason{static_cast<std::uint8_t>(RefusedReason::kKeyClosed)};
  for (std::size_t origin = 0; origin < kHops; ++origin) {
    SCOPED_TRACE(origin);
    CellBytes refused{};
    originate(path.relays[origin].backward, CellCommand::kCreated, 0, RelayType::kRefused, reason,
              random_r(), refused);
    backward_through(path, origin, refused, CellCommand::kCreated);
    ASSERT_EQ(path.client.open_created(refused, answer), CellVerdict::kOk);
    EXPECT_EQ(answer.hop, origin);
    EXPECT_EQ(answer.message.type, RelayType::kRefused);
    EXPECT_EQ(bytes_of(answer.message.data), bytes_of(reason));
  }

  CellBytes noise = random_cell_bytes();
  EXPECT_EQ(path.client.open_created(noise, answer), CellVerdict::kTampered);
}

// ---------------------------------------------------------------- unlinkability

TEST(CellCrypto, StepsShareNothingAcrossHops) {
  CryptoPath path = make_crypto_path(3);
  std::size_t total_equal = 0;
  for (int k = 0; k < 100; ++k) {
    CellBytes cell{};
    path.client.seal(RelayType::kData, random_datagram(32), cell);
    std::array<HeadBytes, 3> heads;
    for (std::size_t i = 0; i < heads.size(); ++i) {
      std::copy_n(cell.begin(), kHopHeaderSize, heads[i].begin());
      ASSERT_EQ(forward_through(path, i, i + 1, cell), CellVerdict::kOk);
    }
    for (std::size_t a = 0; a < heads.size(); ++a) {
      for (std::size_t b = a + 1; b < heads.size(); ++b) {
        const std::size_t same = equal_byte_count(heads[a], heads[b]);
        EXPECT_LE(same, 4u) << "hops " << a << " and " << b;
        total_equal += same;
      }
    }
  }
  // 100 cells x 3 pairs x 16 bytes agree by chance 18.75 times on average
  // (standard deviation 4.3).
  EXPECT_LE(total_equal, 50u);
}

}  // namespace
}  // namespace nyx::mix
