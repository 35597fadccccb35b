#include "transport/detail/initiator_handshake.hpp"

#include <utility>

namespace nyx::transport::detail {

void InitiatorHandshake::start(NoiseHandshake noise, std::uint32_t index, Nanos now,
                               Nanos retry_interval) {
  noise_.emplace(std::move(noise));
  index_ = index;
  started_ = now;
  retry_interval_ = retry_interval;
  next_retry_ = now + retry_interval;
  state_ = HandshakeState::kInitSent;
}

void InitiatorHandshake::final_sent() {
  noise_.reset();
  state_ = HandshakeState::kFinalSent;
}

void InitiatorHandshake::finish() {
  noise_.reset();
  state_ = HandshakeState::kIdle;
}

void InitiatorHandshake::retransmitted(Nanos now) {
  retry_interval_ *= 2;
  next_retry_ = now + retry_interval_;
}

}  // namespace nyx::transport::detail
