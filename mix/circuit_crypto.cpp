#include "mix/circuit_crypto.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/crypto/chacha20.hpp"
#include "core/crypto/poly1305.hpp"
#include "core/crypto/random_pool.hpp"
#include "mix/detail/hop_step.hpp"

namespace nyx::mix {

using detail::cipher_nonce;
using detail::command_byte;

namespace {

// FWD_HOP's first half: the header the hop's head enciphers to, under the
// hash of the rest of the cell.
detail::HopHeader forward_header_of(const DirectionKeys& keys, CellCommand command,
                                    CellPayload payload) noexcept {
  std::array<std::uint8_t, 16> h;
  crypto::poly1305(keys.hash.span(), Bytes(payload).subspan(kHopHeaderSize), h);
  detail::HopHeader header;
  std::copy_n(payload.begin(), kHopHeaderSize, header.begin());
  keys.perm.encipher(h, command_byte(command), header);
  return header;
}

// FWD_HOP's second half, for a header that checked out: body || 0^16, XORed
// with one keystream, is the next hop's body || the pad.
void forward_stream(const DirectionKeys& keys, const detail::HopHeader& header,
                    CellPayload payload) noexcept {
  std::memmove(payload.data(), payload.data() + kHopHeaderSize, kCellBodySize);
  std::fill(payload.begin() + kCellBodySize, payload.end(), std::uint8_t{0});
  crypto::chacha20_xor(keys.stream.span(), cipher_nonce(header), 0, payload, payload);
}

}  // namespace

CellVerdict relay_forward(const DirectionKeys& keys, CellCommand command, SlotWindow& window,
                          CellPayload payload) noexcept {
  const detail::HopHeader header = forward_header_of(keys, command, payload);
  const auto pair = detail::parse_forward_header(header);
  if (!pair) {
    return CellVerdict::kTampered;
  }
  switch (window.check(pair->epoch, pair->slot)) {
    case SlotVerdict::kNew:
      break;
    case SlotVerdict::kReplayed:
      return CellVerdict::kReplayed;
    case SlotVerdict::kTooOld:
      return CellVerdict::kTooOld;
  }
  window.mark(pair->epoch, pair->slot);
  forward_stream(keys, header, payload);
  return CellVerdict::kOk;
}

bool relay_destroy_forward(const DirectionKeys& keys, CellPayload payload) noexcept {
  const detail::HopHeader header = forward_header_of(keys, CellCommand::kDestroy, payload);
  if (!detail::parse_forward_header(header)) {
    crypto::pooled_random_bytes(payload);  // never a keystream under an unchecked header
    return false;
  }
  forward_stream(keys, header, payload);
  return true;
}

void relay_backward(const DirectionKeys& keys, CellCommand command, HopNonce r,
                    CellPayload payload) noexcept {
  // L = [0, 16), R = [16, 1003), A = [1003, 1019): the tweak covers r, R, A.
  std::array<std::uint8_t, 16> h;
  crypto::Poly1305 hash(keys.hash.span());
  hash.update(r);
  hash.update(Bytes(payload).subspan(kHopHeaderSize));
  hash.finish(h);
  std::array<std::uint8_t, kHopHeaderSize> y;
  std::copy_n(payload.begin(), kHopHeaderSize, y.begin());
  keys.perm.encipher(h, command_byte(command), y);
  // r || Y || R ^ keystream; A is dropped.
  constexpr std::size_t kStreamed = kCellBodySize - kHopHeaderSize;  // 987
  std::memmove(payload.data() + 2 * kHopHeaderSize, payload.data() + kHopHeaderSize, kStreamed);
  std::copy(y.begin(), y.end(), payload.begin() + kHopHeaderSize);
  std::copy(r.begin(), r.end(), payload.begin());
  const MutableBytes streamed = MutableBytes(payload).subspan(2 * kHopHeaderSize);
  crypto::chacha20_xor(keys.stream.span(), cipher_nonce(y), 0, streamed, streamed);
}

void originate(const DirectionKeys& keys, CellCommand command, std::uint64_t counter,
               RelayType type, Bytes data, HopNonce r, CellPayload payload) {
  // BE64(counter) || 0^8 || plaintext || 0^96 || 0^16
  std::fill(payload.begin(), payload.end(), std::uint8_t{0});
  store_be64(payload.data(), counter);
  encode_relay_plain(type, data, payload.subspan<kHopHeaderSize, kRelayPlainSize>());
  relay_backward(keys, command, r, payload);
}

CellVerdict TerminalCrypto::open(CellCommand command, CellPayload payload, RelayMessage& message) {
  const CellVerdict verdict = relay_forward(keys_.forward, command, window_, payload);
  if (verdict != CellVerdict::kOk) {
    return verdict;
  }
  auto decoded = decode_relay_plain(payload.first<kRelayPlainSize>());
  if (!decoded) {
    return CellVerdict::kMalformed;
  }
  message = *decoded;
  return CellVerdict::kOk;
}

DestroyReason TerminalCrypto::open_destroy(CellPayload payload) noexcept {
  if (!relay_destroy_forward(keys_.forward, payload)) {
    return DestroyReason::kUnknown;
  }
  const auto message = decode_relay_plain(payload.first<kRelayPlainSize>());
  return message ? end_reason(*message) : DestroyReason::kUnknown;
}

void TerminalCrypto::seal(CellCommand command, RelayType type, Bytes data, CellPayload payload) {
  std::array<std::uint8_t, kHopHeaderSize> r;
  crypto::pooled_random_bytes(r);
  originate(keys_.backward, command, sent_++, type, data, r, payload);
}

}  // namespace nyx::mix
