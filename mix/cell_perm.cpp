#include "mix/cell_perm.hpp"

#include <algorithm>
#include <array>

#include "core/bytes.hpp"
#include "core/crypto/siphash.hpp"

namespace nyx::mix {

// F_j(h, x, c) = SipHash-2-4(P_j, h || x || c), 25 bytes.
std::uint64_t CellPermutation::round(int j, TweakHash h, std::uint64_t half,
                                     std::uint8_t command) const noexcept {
  std::array<std::uint8_t, 25> in;
  std::copy(h.begin(), h.end(), in.begin());
  store_le64(in.data() + 16, half);
  in[24] = command;
  return crypto::siphash24(
      std::span<const std::uint8_t, crypto::kSipHashKeySize>(keys_.data() + 16 * j, 16), Bytes(in));
}

void CellPermutation::encipher(TweakHash h, std::uint8_t command, PermBlock block) const noexcept {
  std::uint64_t a = load_le64(block.data());
  std::uint64_t b = load_le64(block.data() + 8);
  for (int j = 0; j < 4; ++j) {
    const std::uint64_t next = a ^ round(j, h, b, command);
    a = b;
    b = next;
  }
  store_le64(block.data(), a);
  store_le64(block.data() + 8, b);
}

void CellPermutation::decipher(TweakHash h, std::uint8_t command, PermBlock block) const noexcept {
  std::uint64_t a = load_le64(block.data());
  std::uint64_t b = load_le64(block.data() + 8);
  for (int j = 3; j >= 0; --j) {
    const std::uint64_t prev = b ^ round(j, h, a, command);
    b = a;
    a = prev;
  }
  store_le64(block.data(), a);
  store_le64(block.data() + 8, b);
}

}  // namespace nyx::mix
