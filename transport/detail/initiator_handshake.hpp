#pragma once
// InitiatorHandshake: the initiator's side of one peer's UDP handshake as a
// state machine (docs/protocol.md, "Links (transport)"):
//
//   kIdle --start()--> kInitSent --final_sent()--> kFinalSent --finish()--> kIdle
//     ^                    |                           |
//     +------finish()------+---------------------------+   (abandoned or timed out)
//
// kInitSent: message 1 is out and retransmitted until a response arrives;
// kFinalSent: message 3 is out and retransmitted until the first message on
// the new session confirms it. It keeps the local index the handshake owns,
// the message to retransmit and the retransmit schedule (the interval
// doubles per retry); the caller reads the time from its injected clock and
// passes it in.
//
// One per Peer, owned by it; not thread-safe.

#include <array>
#include <cstdint>
#include <optional>

#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "transport/noise_handshake.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport::detail {

enum class HandshakeState : std::uint8_t {
  kIdle,       // no handshake runs
  kInitSent,   // message 1 sent, waiting for message 2
  kFinalSent,  // message 3 sent, waiting for the first message on the session
};

class InitiatorHandshake {
 public:
  HandshakeState state() const noexcept { return state_; }
  bool idle() const noexcept { return state_ == HandshakeState::kIdle; }
  // The local index the handshake (and then its session) is known by.
  std::uint32_t index() const noexcept { return index_; }
  // Whether this handshake owns `index` (a response for it is expected or
  // already answered).
  bool owns(std::uint32_t index) const noexcept { return !idle() && index == index_; }

  // kIdle -> kInitSent. The caller then writes message 1 with noise() into
  // retransmit_buffer().
  void start(NoiseHandshake noise, std::uint32_t index, Nanos now, Nanos retry_interval);
  // Precondition: kInitSent.
  NoiseHandshake& noise() { return *noise_; }
  // kInitSent -> kFinalSent: the Noise state is spent (split); message 3,
  // written into retransmit_buffer(), replaces message 1.
  void final_sent();
  // Any state -> kIdle: confirmed, abandoned or timed out.
  void finish();

  MutableBytes retransmit_buffer() { return retransmit_; }
  Bytes retransmit() const { return retransmit_; }

  // The retransmit timer: due when a handshake runs and its retry time passed.
  bool retransmit_due(Nanos now) const noexcept { return !idle() && now >= next_retry_; }
  // Whether the handshake has run for `timeout` since start().
  bool timed_out(Nanos now, Nanos timeout) const noexcept { return now - started_ >= timeout; }
  // Records a retransmission: the next waits twice as long.
  void retransmitted(Nanos now);

 private:
  HandshakeState state_ = HandshakeState::kIdle;
  std::optional<NoiseHandshake> noise_;  // engaged in kInitSent only
  std::uint32_t index_ = 0;
  Nanos started_{};
  Nanos next_retry_{};
  Nanos retry_interval_{};
  std::array<std::uint8_t, kDatagramSize> retransmit_{};
};

}  // namespace nyx::transport::detail
