#include "transport/noise_symmetric_state.hpp"

#include <algorithm>
#include <cstring>

#include "core/crypto/blake2b.hpp"

namespace nyx::transport {
namespace {

constexpr std::size_t kBlockLen = 128;
using Hash = NoiseSymmetricState::Hash;

// HMAC-BLAKE2b (RFC 2104 with BLAKE2b-512 unkeyed, block length 128), the
// HMAC the Noise spec prescribes: not BLAKE2b's own keyed mode.
void hmac(Bytes key, std::initializer_list<Bytes> parts, Hash& out) {
  std::array<std::uint8_t, kBlockLen> ipad{};
  std::array<std::uint8_t, kBlockLen> opad{};
  std::copy(key.begin(), key.end(), ipad.begin());  // key.size() <= 64 < 128
  opad = ipad;
  for (std::size_t i = 0; i < kBlockLen; ++i) {
    ipad[i] ^= 0x36;
    opad[i] ^= 0x5c;
  }
  Hash inner;
  {
    crypto::Blake2b hash(NoiseSymmetricState::kHashLen);
    hash.update(ipad);
    for (Bytes part : parts) {
      hash.update(part);
    }
    hash.finish(inner);
  }
  crypto::Blake2b hash(NoiseSymmetricState::kHashLen);
  hash.update(opad);
  hash.update(inner);
  hash.finish(out);
  crypto::detail::secure_zero(ipad.data(), ipad.size());
  crypto::detail::secure_zero(opad.data(), opad.size());
  crypto::detail::secure_zero(inner.data(), inner.size());
}

// HKDF(chaining_key, ikm) with two outputs (§4.3).
void hkdf2(Bytes chaining_key, Bytes ikm, Hash& out1, Hash& out2) {
  Hash temp_key;
  hmac(chaining_key, {ikm}, temp_key);
  const std::uint8_t one = 0x01;
  const std::uint8_t two = 0x02;
  hmac(temp_key, {Bytes(&one, 1)}, out1);
  hmac(temp_key, {Bytes(out1), Bytes(&two, 1)}, out2);
  crypto::detail::secure_zero(temp_key.data(), temp_key.size());
}

}  // namespace

NoiseSymmetricState::NoiseSymmetricState(std::string_view protocol_name) {
  if (protocol_name.size() <= kHashLen) {
    std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());
  } else {
    crypto::blake2b(h_, as_bytes(protocol_name));
  }
  std::copy(h_.begin(), h_.end(), ck_.data());
}

void NoiseSymmetricState::mix_key(Bytes input_key_material) {
  Hash new_ck;
  Hash temp_k;
  hkdf2(ck_.span(), input_key_material, new_ck, temp_k);
  std::copy(new_ck.begin(), new_ck.end(), ck_.data());
  cipher_.initialize_key(std::span<const std::uint8_t, 32>(temp_k.data(), 32));
  crypto::detail::secure_zero(new_ck.data(), new_ck.size());
  crypto::detail::secure_zero(temp_k.data(), temp_k.size());
}

void NoiseSymmetricState::mix_hash(Bytes data) {
  crypto::Blake2b hash(kHashLen);
  hash.update(h_);
  hash.update(data);
  hash.finish(h_);
}

Status NoiseSymmetricState::encrypt_and_hash(Bytes plaintext, MutableBytes out) {
  if (auto status = cipher_.encrypt_with_ad(h_, plaintext, out); !status) {
    return status;
  }
  mix_hash(out);
  return {};
}

Status NoiseSymmetricState::decrypt_and_hash(Bytes ciphertext, MutableBytes out) {
  // h must absorb the ciphertext as received, so hash it before decrypting
  // (the output may alias the input).
  Hash next_h;
  {
    crypto::Blake2b hash(kHashLen);
    hash.update(h_);
    hash.update(ciphertext);
    hash.finish(next_h);
  }
  if (auto status = cipher_.decrypt_with_ad(h_, ciphertext, out); !status) {
    return status;
  }
  h_ = next_h;
  return {};
}

std::pair<NoiseCipherState, NoiseCipherState> NoiseSymmetricState::split() const {
  Hash k1;
  Hash k2;
  hkdf2(ck_.span(), {}, k1, k2);
  std::pair<NoiseCipherState, NoiseCipherState> out;
  out.first.initialize_key(std::span<const std::uint8_t, 32>(k1.data(), 32));
  out.second.initialize_key(std::span<const std::uint8_t, 32>(k2.data(), 32));
  crypto::detail::secure_zero(k1.data(), k1.size());
  crypto::detail::secure_zero(k2.data(), k2.size());
  return out;
}

}  // namespace nyx::transport
