#include "mix/client_onion.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/crypto/chacha20.hpp"
#include "core/crypto/compare.hpp"
#include "core/crypto/poly1305.hpp"
#include "core/crypto/random_pool.hpp"
#include "core/crypto/secret.hpp"
#include "mix/detail/hop_step.hpp"

namespace nyx::mix {

using detail::cipher_nonce;
using detail::command_byte;
using detail::HopHeader;

namespace {

constexpr std::size_t kStreamedBackward = kCellBodySize - kHopHeaderSize;  // 987
// Forward pads and the filler come from keystream bytes [896, 1019): blocks 14 and 15.
constexpr std::uint32_t kTailBlock = 14;
constexpr std::size_t kTailOffset = 64 * kTailBlock;

using Tail = std::array<std::uint8_t, 128>;
using BackwardStream = std::array<std::uint8_t, kStreamedBackward>;

void keystream(const DirectionKeys& keys, const HopHeader& head, std::uint32_t block,
               MutableBytes out) {
  std::fill(out.begin(), out.end(), std::uint8_t{0});
  crypto::chacha20_xor(keys.stream.span(), cipher_nonce(head), block, out, out);
}

void xor_into(MutableBytes out, Bytes in) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] ^= in[i];
  }
}

}  // namespace

ClientOnion::ClientOnion(std::vector<HopKeys> hops) : hops_(std::move(hops)), slots_(hops_.size()) {
  if (hops_.empty() || hops_.size() > kMaxCellHops) {
    crypto::detail::precondition_failed("ClientOnion: 1 to 7 hops");
  }
}

// CLIENT_SEAL. phi, the filler, is what the pads of hops 0 … n-2 have become
// by the last hop, so that hop's body ends in it; the rest of that body is
// the plaintext and the spare bytes, under the last hop's keystream. Then
// from the last hop back to the entry: the head that deciphers to the hop's
// header under the hash of its body, and the body the hop before receives.
void ClientOnion::seal(RelayType type, Bytes data, CellPayload payload, CellCommand command) {
  const std::size_t n = hops_.size();
  std::array<HopHeader, kMaxCellHops> headers;
  for (std::size_t i = 0; i < n; ++i) {
    headers[i] = detail::forward_header(slots_[i].next());
  }
  std::array<std::uint8_t, kReservedHeadersSize> phi{};
  std::size_t filled = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    Tail tail;
    keystream(hops_[i].forward, headers[i], kTailBlock, tail);
    xor_into(MutableBytes(phi).first(filled),
             Bytes(tail).subspan(kCellBodySize - filled - kTailOffset, filled));
    std::copy_n(tail.begin() + (kCellBodySize - kTailOffset), kHopHeaderSize, phi.begin() + filled);
    filled += kHopHeaderSize;
  }
  const MutableBytes body = MutableBytes(payload).subspan(kHopHeaderSize);
  encode_relay_plain(type, data, body.subspan<0, kRelayPlainSize>());
  crypto::pooled_random_bytes(
      body.subspan(kRelayPlainSize, kCellBodySize - kRelayPlainSize - filled));
  std::copy_n(phi.begin(), filled, body.end() - static_cast<std::ptrdiff_t>(filled));
  const MutableBytes streamed = body.first(kCellBodySize - filled);
  crypto::chacha20_xor(hops_[n - 1].forward.stream.span(), cipher_nonce(headers[n - 1]), 0,
                       streamed, streamed);
  for (std::size_t i = n; i-- > 0;) {
    std::array<std::uint8_t, 16> h;
    crypto::poly1305(hops_[i].forward.hash.span(), body, h);
    HopHeader head = headers[i];
    hops_[i].forward.perm.decipher(h, command_byte(command), head);
    std::copy(head.begin(), head.end(), payload.begin());
    if (i > 0) {
      std::memmove(body.data(), payload.data(), kCellBodySize);  // hop i-1's pad falls off
      crypto::chacha20_xor(hops_[i - 1].forward.stream.span(), cipher_nonce(headers[i - 1]), 0,
                           body, body);
    }
  }
}

// CLIENT_OPEN. Phase 1 finds each layer's enciphered head Y_j and keystream
// from the front bytes alone; phase 2 the 16 bytes each hop dropped, from the
// origin's zero tail; phase 3 undoes the layers with their full tweaks.
std::optional<std::uint64_t> ClientOnion::unwrap(std::size_t origin, CellCommand command,
                                                 CellPayload payload) const {
  const std::size_t layers = origin + 1;
  std::array<HopHeader, kMaxCellHops> ys;
  std::array<BackwardStream, kMaxCellHops> streams;
  std::array<std::uint8_t, kHopHeaderSize*(kMaxCellHops + 1)> front;
  std::size_t front_size = kHopHeaderSize * (layers + 1);
  std::copy_n(payload.begin(), front_size, front.begin());
  for (std::size_t j = 0; j < layers; ++j) {
    std::copy_n(front.begin() + kHopHeaderSize, kHopHeaderSize, ys[j].begin());
    keystream(hops_[j].backward, ys[j], 0, streams[j]);
    for (std::size_t k = 0; k + 2 * kHopHeaderSize < front_size; ++k) {
      front[kHopHeaderSize + k] = front[2 * kHopHeaderSize + k] ^ streams[j][k];
    }
    front_size -= kHopHeaderSize;
  }
  std::array<HopHeader, kMaxCellHops> drops{};
  std::array<std::uint8_t, kReservedHeadersSize> tail;
  std::copy_n(streams[origin].begin() + kRelayPlainSize, kReservedHeadersSize, tail.begin());
  std::size_t tail_size = kReservedHeadersSize;
  for (std::size_t j = origin; j-- > 0;) {
    std::copy_n(tail.begin() + (tail_size - kHopHeaderSize), kHopHeaderSize, drops[j].begin());
    for (std::size_t k = 0; k + kHopHeaderSize < tail_size; ++k) {
      tail[k] ^= streams[j][kCellBodySize - tail_size + k];
    }
    tail_size -= kHopHeaderSize;
  }
  for (std::size_t j = 0; j < layers; ++j) {
    HopHeader r;
    std::copy_n(payload.begin(), kHopHeaderSize, r.begin());
    std::memmove(payload.data() + kHopHeaderSize, payload.data() + 2 * kHopHeaderSize,
                 kStreamedBackward);
    xor_into(MutableBytes(payload).subspan(kHopHeaderSize, kStreamedBackward), streams[j]);
    std::copy(drops[j].begin(), drops[j].end(), payload.begin() + kCellBodySize);
    std::array<std::uint8_t, 16> h;
    crypto::Poly1305 hash(hops_[j].backward.hash.span());
    hash.update(r);
    hash.update(Bytes(payload).subspan(kHopHeaderSize));
    hash.finish(h);
    HopHeader left = ys[j];
    hops_[j].backward.perm.decipher(h, command_byte(command), left);
    std::copy(left.begin(), left.end(), payload.begin());
  }
  static constexpr std::array<std::uint8_t, kReservedHeadersSize> kZeroTail{};
  const Bytes cell(payload);
  if (!crypto::ct_equal(cell.subspan(8, 8), detail::kZeroCheck) ||
      !crypto::ct_equal(cell.subspan(kHopHeaderSize + kRelayPlainSize, kReservedHeadersSize),
                        kZeroTail)) {
    return std::nullopt;
  }
  return load_be64(payload.data());
}

CellVerdict ClientOnion::open(CellPayload payload, RelayMessage& message) {
  const auto counter = unwrap(hops_.size() - 1, CellCommand::kRelay, payload);
  if (!counter) {
    return CellVerdict::kTampered;
  }
  if (!backward_window_.check(*counter)) {
    const bool too_old = backward_window_.last() - *counter >= transport::ReplayWindow::kWindow;
    return too_old ? CellVerdict::kTooOld : CellVerdict::kReplayed;
  }
  auto decoded = decode_relay_plain(payload.subspan<kHopHeaderSize, kRelayPlainSize>());
  if (!decoded) {
    return CellVerdict::kMalformed;
  }
  backward_window_.update(*counter);
  message = *decoded;
  return CellVerdict::kOk;
}

CellVerdict ClientOnion::open_created(CellPayload payload, Answer& answer) {
  std::array<std::uint8_t, kCellPayloadSize> work;
  for (std::size_t origin = hops_.size(); origin-- > 0;) {
    std::copy(payload.begin(), payload.end(), work.begin());
    const auto counter = unwrap(origin, CellCommand::kCreated, work);
    if (!counter) {
      continue;
    }
    std::copy(work.begin(), work.end(), payload.begin());
    auto decoded = decode_relay_plain(payload.subspan<kHopHeaderSize, kRelayPlainSize>());
    if (!decoded || *counter != 0) {  // an answer is its origin's first backward cell
      return CellVerdict::kMalformed;
    }
    if (origin + 1 == hops_.size()) {
      backward_window_.update(*counter);
    }
    answer = Answer{origin, *decoded};
    return CellVerdict::kOk;
  }
  return CellVerdict::kTampered;
}

DestroyReason ClientOnion::open_destroy(CellPayload payload) const {
  std::array<std::uint8_t, kCellPayloadSize> work;
  for (std::size_t origin = hops_.size(); origin-- > 0;) {
    std::copy(payload.begin(), payload.end(), work.begin());
    if (!unwrap(origin, CellCommand::kDestroy, work)) {
      continue;
    }
    const auto message =
        decode_relay_plain(std::span(work).subspan<kHopHeaderSize, kRelayPlainSize>());
    if (message && message->type == RelayType::kEnd) {
      return end_reason(*message);
    }
  }
  return DestroyReason::kUnknown;
}

}  // namespace nyx::mix
