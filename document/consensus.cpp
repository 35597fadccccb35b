#include "document/consensus.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/blake2b.hpp"
#include "core/crypto/encoding.hpp"
#include "document/detail/append.hpp"
#include "document/detail/document_header.hpp"
#include "document/limits.hpp"

namespace nyx::document {
namespace {

bool key_before(const ConsensusSignature& a, const ConsensusSignature& b) {
  return a.authority_key < b.authority_key;
}

std::optional<std::string> body_fault(const Consensus& consensus) {
  if (auto fault = detail::period_seconds_fault(consensus.period_seconds)) {
    return fault;
  }
  if (auto fault = entry_list_fault(consensus.entries, consensus.period)) {
    return "entries: " + *fault;
  }
  return std::nullopt;
}

std::optional<std::string> signatures_fault(const std::vector<ConsensusSignature>& signatures) {
  if (signatures.size() < kMinConsensusSignatures || signatures.size() > kMaxConsensusSignatures) {
    return fmt::format("sig_count: {}, expected {} to {}", signatures.size(),
                       kMinConsensusSignatures, kMaxConsensusSignatures);
  }
  for (std::size_t i = 1; i < signatures.size(); ++i) {
    if (!key_before(signatures[i - 1], signatures[i])) {
      return fmt::format(
          "signatures: signature {} not after signature {} (sorted by "
          "authority_key, one per key)",
          i, i - 1);
    }
  }
  return std::nullopt;
}

Status read_body(ByteReader& reader, Consensus& consensus) {
  if (auto status = detail::read_magic(reader, kConsensusMagic, kConsensusVersion); !status) {
    return status;
  }
  if (auto status = detail::read_period_seconds(reader, consensus.period_seconds); !status) {
    return status;
  }
  if (!reader.read_be64(consensus.period)) {
    return make_error(ErrorCategory::kParse, "period: truncated");
  }
  auto entries = read_entry_list(reader, consensus.period);
  if (!entries) {
    return make_error(ErrorCategory::kParse, "entries: " + entries.error().message);
  }
  consensus.entries = std::move(*entries);
  return {};
}

Status read_signatures(ByteReader& reader, Consensus& consensus) {
  std::uint8_t count = 0;
  if (!reader.read_u8(count)) {
    return make_error(ErrorCategory::kParse, "sig_count: truncated");
  }
  if (count < kMinConsensusSignatures || count > kMaxConsensusSignatures) {
    return make_error(ErrorCategory::kParse,
                      fmt::format("sig_count: {}, expected {} to {}", count,
                                  kMinConsensusSignatures, kMaxConsensusSignatures));
  }
  consensus.signatures.resize(count);
  for (ConsensusSignature& signature : consensus.signatures) {
    if (!reader.read_array(signature.authority_key) || !reader.read_array(signature.signature)) {
      return make_error(ErrorCategory::kParse, "signatures: truncated");
    }
  }
  if (!reader.empty()) {
    return make_error(ErrorCategory::kParse, "signatures: trailing bytes after the signatures");
  }
  if (auto fault = signatures_fault(consensus.signatures)) {
    return make_error(ErrorCategory::kParse, std::move(*fault));
  }
  return {};
}

}  // namespace

Result<std::vector<std::uint8_t>> Consensus::encode_body() const {
  if (auto fault = body_fault(*this)) {
    return make_error(ErrorCategory::kInvalidArgument, "consensus: " + *fault);
  }
  std::vector<std::uint8_t> out;
  detail::append_magic(out, kConsensusMagic, kConsensusVersion);
  detail::append_be(out, period_seconds, 4);
  detail::append_be(out, period, 8);
  write_entry_list(out, entries);
  return out;
}

Result<std::vector<std::uint8_t>> Consensus::encode() const {
  if (auto fault = signatures_fault(signatures)) {
    return make_error(ErrorCategory::kInvalidArgument, "consensus: " + *fault);
  }
  auto out = encode_body();
  if (!out) {
    return out;
  }
  out->push_back(static_cast<std::uint8_t>(signatures.size()));
  for (const ConsensusSignature& s : signatures) {
    detail::append_bytes(*out, s.authority_key);
    detail::append_bytes(*out, s.signature);
  }
  if (out->size() > kMaxDocument) {
    return make_error(
        ErrorCategory::kInvalidArgument,
        fmt::format("consensus: length: {} bytes, at most {}", out->size(), kMaxDocument));
  }
  return out;
}

Result<ConsensusDigest> Consensus::digest() const {
  auto body = encode_body();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  return consensus_digest(*body);
}

Status Consensus::add_signature(const ConsensusSignature& signature) {
  auto at = std::lower_bound(signatures.begin(), signatures.end(), signature, key_before);
  if (at != signatures.end() && at->authority_key == signature.authority_key) {
    if (*at == signature) {
      return {};
    }
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("consensus: authority {} already signed",
                                  crypto::to_hex(signature.authority_key)));
  }
  if (signatures.size() >= kMaxConsensusSignatures) {
    return make_error(ErrorCategory::kResourceExhausted,
                      fmt::format("consensus: already {} signatures, at most {}", signatures.size(),
                                  kMaxConsensusSignatures));
  }
  signatures.insert(at, signature);
  return {};
}

Status Consensus::sign(const crypto::Ed25519KeyPair& authority) {
  auto body = encode_body();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  return add_signature(sign_consensus_body(authority, *body));
}

Result<Consensus> Consensus::parse(Bytes encoded) {
  if (encoded.size() > kMaxDocument) {
    return make_error(ErrorCategory::kParse, fmt::format("consensus: length: {} bytes, at most {}",
                                                         encoded.size(), kMaxDocument));
  }
  ByteReader reader(encoded);
  Consensus consensus;
  auto status = read_body(reader, consensus);
  if (status) {
    status = read_signatures(reader, consensus);
  }
  if (!status) {
    return make_error(ErrorCategory::kParse, "consensus: " + status.error().message);
  }
  return consensus;
}

ConsensusDigest consensus_digest(Bytes body) {
  ConsensusDigest digest;
  crypto::blake2b(digest, body);
  return digest;
}

ConsensusSignature sign_consensus_body(const crypto::Ed25519KeyPair& authority, Bytes body) {
  return {authority.public_key,
          authority.sign(detail::signing_message(kConsensusSignatureContext, body))};
}

bool consensus_signature_valid(const ConsensusSignature& signature, Bytes body) {
  return crypto::ed25519_verify(signature.authority_key,
                                detail::signing_message(kConsensusSignatureContext, body),
                                signature.signature);
}

}  // namespace nyx::document
