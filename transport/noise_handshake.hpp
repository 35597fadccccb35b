#pragma once
// NoiseHandshake: the XK handshake of Noise_XK_25519_ChaChaPoly_BLAKE2b
// (Noise spec rev. 34, §5.3 and §7.5), the link handshake of Nyx:
//
//   <- s
//   ...
//   -> e, es
//   <- e, ee
//   -> s, se
//
// The initiator knows the responder's static key (from the directory); the
// responder learns and authenticates the initiator's with message 3. The
// prologue is "nyx-link-v2" on links; tests pass the test vectors' own.
// Message sizes without payload: 48, 48 and 64 bytes.
//
// One owner; not thread-safe. Ephemeral secrets are zeroed when destroyed.
// The static key pair is borrowed and must outlive the handshake.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/bytes.hpp"
#include "core/crypto/secret.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "transport/noise_cipher_state.hpp"
#include "transport/noise_symmetric_state.hpp"
#include "transport/peer_key.hpp"

namespace nyx::transport {

inline constexpr std::string_view kNoiseProtocolName = "Noise_XK_25519_ChaChaPoly_BLAKE2b";
inline constexpr std::string_view kLinkPrologue = "nyx-link-v2";

class NoiseHandshake {
 public:
  static constexpr std::size_t kMessage1Size = 32 + 16;
  static constexpr std::size_t kMessage2Size = 32 + 16;
  static constexpr std::size_t kMessage3Size = 32 + 16 + 16;

  // Session keys after message 3: send and receive from this side's view.
  struct Keys {
    NoiseCipherState send;
    NoiseCipherState receive;
  };

  // `ephemeral` fixes the ephemeral secret (test vectors, and a link probe
  // rebuilding its handshake after a forged answer); otherwise a fresh one
  // is drawn.
  static NoiseHandshake initiator(const crypto::X25519KeyPair& local_static,
                                  const PeerKey& remote_static, Bytes prologue,
                                  std::optional<Bytes> ephemeral = std::nullopt);
  static NoiseHandshake responder(const crypto::X25519KeyPair& local_static, Bytes prologue,
                                  std::optional<Bytes> ephemeral = std::nullopt);

  // Writes the next message (payload appended encrypted) into out and
  // returns its size. Fails when it is not this side's turn or out is small.
  Result<std::size_t> write_message(Bytes payload, MutableBytes out);
  // Reads the next message; returns the payload size written to payload_out.
  // Any failure leaves the handshake unusable (the caller drops it).
  Result<std::size_t> read_message(Bytes message, MutableBytes payload_out);

  // Size of the next message with a payload of payload_size bytes.
  std::size_t next_message_size(std::size_t payload_size) const noexcept;
  bool complete() const noexcept { return step_ == 3; }
  bool failed() const noexcept { return failed_; }
  // The peer's static key: known from the start for an initiator, after
  // message 3 for a responder.
  const PeerKey& remote_static() const noexcept { return rs_; }
  const NoiseSymmetricState::Hash& handshake_hash() const noexcept {
    return symmetric_.handshake_hash();
  }
  // Precondition: complete(). Call once.
  Keys split();

 private:
  NoiseHandshake(bool initiator, const crypto::X25519KeyPair& local_static, Bytes prologue,
                 std::optional<Bytes> ephemeral);
  Status dh_mix(std::span<const std::uint8_t, 32> secret, const PeerKey& public_key);

  bool initiator_;
  const crypto::X25519KeyPair& s_;
  crypto::EphemeralSecret<32> e_secret_;
  PeerKey e_public_{};
  PeerKey re_{};
  PeerKey rs_{};
  NoiseSymmetricState symmetric_;
  int step_ = 0;  // messages processed so far
  bool failed_ = false;
};

}  // namespace nyx::transport
