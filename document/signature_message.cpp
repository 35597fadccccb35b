#include "document/signature_message.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/crypto/compare.hpp"
#include "core/crypto/encoding.hpp"
#include "document/detail/append.hpp"
#include "document/detail/document_header.hpp"

namespace nyx::document {

Result<SignatureMessage> SignatureMessage::make(const Consensus& consensus,
                                                const crypto::Ed25519KeyPair& authority) {
  auto body = consensus.encode_body();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  const ConsensusSignature signed_body = sign_consensus_body(authority, *body);
  SignatureMessage message;
  message.period_seconds = consensus.period_seconds;
  message.period = consensus.period;
  message.consensus_digest = document::consensus_digest(*body);
  message.authority_key = signed_body.authority_key;
  message.signature = signed_body.signature;
  return message;
}

Result<std::array<std::uint8_t, kSignatureMessageSize>> SignatureMessage::encode() const {
  if (auto fault = detail::period_seconds_fault(period_seconds)) {
    return make_error(ErrorCategory::kInvalidArgument, "signature message: " + *fault);
  }
  std::vector<std::uint8_t> out;
  out.reserve(kSignatureMessageSize);
  detail::append_magic(out, kSignatureMessageMagic, kSignatureMessageVersion);
  detail::append_be(out, period_seconds, 4);
  detail::append_be(out, period, 8);
  detail::append_bytes(out, consensus_digest);
  detail::append_bytes(out, authority_key);
  detail::append_bytes(out, signature);
  std::array<std::uint8_t, kSignatureMessageSize> fixed{};
  std::copy(out.begin(), out.end(), fixed.begin());  // every field is fixed-size: exactly 147
  return fixed;
}

Result<SignatureMessage> SignatureMessage::parse(Bytes encoded) {
  auto refuse = [](std::string what) {
    return make_error(ErrorCategory::kParse, "signature message: " + what);
  };
  if (encoded.size() != kSignatureMessageSize) {
    return refuse(
        fmt::format("length: {} bytes, expected {}", encoded.size(), kSignatureMessageSize));
  }
  ByteReader reader(encoded);
  SignatureMessage message;
  if (auto status = detail::read_magic(reader, kSignatureMessageMagic, kSignatureMessageVersion);
      !status) {
    return refuse(status.error().message);
  }
  if (auto status = detail::read_period_seconds(reader, message.period_seconds); !status) {
    return refuse(status.error().message);
  }
  // The length was checked above: the fixed-size fields are all there.
  reader.read_be64(message.period);
  reader.read_array(message.consensus_digest);
  reader.read_array(message.authority_key);
  reader.read_array(message.signature);
  return message;
}

Status SignatureMessage::check_against(Bytes own_body) const {
  const ConsensusDigest own = document::consensus_digest(own_body);
  if (!crypto::ct_equal(consensus_digest, own)) {
    return make_error(ErrorCategory::kProtocol,
                      fmt::format("authority {} signed a different consensus (digest {}, ours {})",
                                  crypto::to_hex(authority_key), crypto::to_hex(consensus_digest),
                                  crypto::to_hex(own)));
  }
  if (!consensus_signature_valid(consensus_signature(), own_body)) {
    return make_error(ErrorCategory::kCrypto, fmt::format("authority {}: bad consensus signature",
                                                          crypto::to_hex(authority_key)));
  }
  return {};
}

}  // namespace nyx::document
