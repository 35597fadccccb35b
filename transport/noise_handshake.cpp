#include "transport/noise_handshake.hpp"

#include <algorithm>

namespace nyx::transport {
namespace {

Status fail(bool& failed, ErrorCategory category, const char* message) {
  failed = true;
  return make_error(category, message);
}

}  // namespace

NoiseHandshake::NoiseHandshake(bool initiator, const crypto::X25519KeyPair& local_static,
                               Bytes prologue, std::optional<Bytes> ephemeral)
    : initiator_(initiator),
      s_(local_static),
      e_secret_(ephemeral ? crypto::EphemeralSecret<32>::from(*ephemeral)
                          : crypto::EphemeralSecret<32>::random()),
      symmetric_(kNoiseProtocolName) {
  crypto::x25519_base(e_public_, e_secret_.span());
  symmetric_.mix_hash(prologue);
}

NoiseHandshake NoiseHandshake::initiator(const crypto::X25519KeyPair& local_static,
                                         const PeerKey& remote_static, Bytes prologue,
                                         std::optional<Bytes> ephemeral) {
  NoiseHandshake hs(true, local_static, prologue, ephemeral);
  hs.rs_ = remote_static;
  hs.symmetric_.mix_hash(remote_static);  // pre-message "<- s"
  return hs;
}

NoiseHandshake NoiseHandshake::responder(const crypto::X25519KeyPair& local_static, Bytes prologue,
                                         std::optional<Bytes> ephemeral) {
  NoiseHandshake hs(false, local_static, prologue, ephemeral);
  hs.symmetric_.mix_hash(local_static.public_key);  // pre-message "<- s"
  return hs;
}

std::size_t NoiseHandshake::next_message_size(std::size_t payload_size) const noexcept {
  switch (step_) {
    case 0:
      return kMessage1Size + payload_size;
    case 1:
      return kMessage2Size + payload_size;
    default:
      return kMessage3Size + payload_size;
  }
}

Status NoiseHandshake::dh_mix(std::span<const std::uint8_t, 32> secret, const PeerKey& public_key) {
  crypto::EphemeralSecret<32> shared;
  if (auto status = crypto::x25519(shared.mutable_span(), secret, public_key); !status) {
    return status;
  }
  symmetric_.mix_key(shared.span());
  return {};
}

Result<std::size_t> NoiseHandshake::write_message(Bytes payload, MutableBytes out) {
  const bool my_turn = !failed_ && step_ < 3 && ((step_ % 2 == 0) == initiator_);
  if (!my_turn) {
    return make_error(ErrorCategory::kProtocol, "noise: not this side's turn to write");
  }
  const std::size_t size = next_message_size(payload.size());
  if (out.size() < size) {
    return make_error(ErrorCategory::kInvalidArgument, "noise: output buffer too small");
  }
  std::size_t pos = 0;
  if (step_ == 0) {  // -> e, es
    std::copy(e_public_.begin(), e_public_.end(), out.begin());
    symmetric_.mix_hash(e_public_);
    pos = 32;
    if (auto status = dh_mix(e_secret_.span(), rs_); !status) {
      failed_ = true;
      return std::unexpected(status.error());
    }
  } else if (step_ == 1) {  // <- e, ee
    std::copy(e_public_.begin(), e_public_.end(), out.begin());
    symmetric_.mix_hash(e_public_);
    pos = 32;
    if (auto status = dh_mix(e_secret_.span(), re_); !status) {
      failed_ = true;
      return std::unexpected(status.error());
    }
  } else {  // -> s, se
    if (auto status = symmetric_.encrypt_and_hash(s_.public_key, out.subspan(0, 48)); !status) {
      failed_ = true;
      return std::unexpected(status.error());
    }
    pos = 48;
    if (auto status = dh_mix(s_.secret.span(), re_); !status) {
      failed_ = true;
      return std::unexpected(status.error());
    }
  }
  if (auto status = symmetric_.encrypt_and_hash(payload, out.subspan(pos, payload.size() + 16));
      !status) {
    failed_ = true;
    return std::unexpected(status.error());
  }
  ++step_;
  return size;
}

Result<std::size_t> NoiseHandshake::read_message(Bytes message, MutableBytes payload_out) {
  const bool their_turn = !failed_ && step_ < 3 && ((step_ % 2 == 1) == initiator_);
  if (!their_turn) {
    return std::unexpected(
        fail(failed_, ErrorCategory::kProtocol, "noise: not the peer's turn to write").error());
  }
  const std::size_t fixed = next_message_size(0);
  if (message.size() < fixed) {
    return std::unexpected(
        fail(failed_, ErrorCategory::kParse, "noise: handshake message too short").error());
  }
  const std::size_t payload_size = message.size() - fixed;
  if (payload_out.size() < payload_size) {
    return std::unexpected(
        fail(failed_, ErrorCategory::kInvalidArgument, "noise: payload buffer too small").error());
  }
  std::size_t pos = 0;
  Status status;
  if (step_ == 0) {  // responder reads e, es
    std::copy_n(message.begin(), 32, re_.begin());
    symmetric_.mix_hash(re_);
    pos = 32;
    status = dh_mix(s_.secret.span(), re_);
  } else if (step_ == 1) {  // initiator reads e, ee
    std::copy_n(message.begin(), 32, re_.begin());
    symmetric_.mix_hash(re_);
    pos = 32;
    status = dh_mix(e_secret_.span(), re_);
  } else {  // responder reads s, se
    status = symmetric_.decrypt_and_hash(message.subspan(0, 48), rs_);
    pos = 48;
    if (status) {
      status = dh_mix(e_secret_.span(), rs_);
    }
  }
  if (status) {
    status =
        symmetric_.decrypt_and_hash(message.subspan(pos), payload_out.subspan(0, payload_size));
  }
  if (!status) {
    failed_ = true;
    return std::unexpected(status.error());
  }
  ++step_;
  return payload_size;
}

NoiseHandshake::Keys NoiseHandshake::split() {
  auto [c1, c2] = symmetric_.split();
  if (initiator_) {
    return Keys{std::move(c1), std::move(c2)};
  }
  return Keys{std::move(c2), std::move(c1)};
}

}  // namespace nyx::transport
