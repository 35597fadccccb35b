#pragma once
// Noise SymmetricState (Noise spec rev. 34, §5.2) with BLAKE2b as HASH
// (HASHLEN 64, BLOCKLEN 128): chaining key ck, handshake hash h and a
// CipherState, with HMAC-BLAKE2b and HKDF exactly as §4.3 defines them.
//
// One owner; not thread-safe. ck is zeroed when destroyed.

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "core/bytes.hpp"
#include "core/crypto/secret.hpp"
#include "core/error.hpp"
#include "transport/noise_cipher_state.hpp"

namespace nyx::transport {

class NoiseSymmetricState {
 public:
  static constexpr std::size_t kHashLen = 64;
  using Hash = std::array<std::uint8_t, kHashLen>;

  explicit NoiseSymmetricState(std::string_view protocol_name);

  void mix_key(Bytes input_key_material);
  void mix_hash(Bytes data);
  // out.size() == plaintext.size() (+16 once a key is set).
  Status encrypt_and_hash(Bytes plaintext, MutableBytes out);
  Status decrypt_and_hash(Bytes ciphertext, MutableBytes out);
  bool has_key() const noexcept { return cipher_.has_key(); }
  // Returns (c1, c2): c1 encrypts initiator -> responder.
  std::pair<NoiseCipherState, NoiseCipherState> split() const;

  const Hash& handshake_hash() const noexcept { return h_; }

 private:
  crypto::EphemeralSecret<kHashLen> ck_;
  Hash h_{};
  NoiseCipherState cipher_;
};

}  // namespace nyx::transport
