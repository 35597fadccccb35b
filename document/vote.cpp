#include "document/vote.hpp"

#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "core/crypto/compare.hpp"
#include "core/crypto/encoding.hpp"
#include "document/detail/append.hpp"
#include "document/detail/document_header.hpp"
#include "document/limits.hpp"

namespace nyx::document {
namespace {

// The value rules the encoder and the parser share.
std::optional<std::string> vote_fault(const Vote& vote) {
  if (auto fault = detail::period_seconds_fault(vote.period_seconds)) {
    return fault;
  }
  if (auto fault = entry_list_fault(vote.entries, vote.period)) {
    return "entries: " + *fault;
  }
  return std::nullopt;
}

Status read_fields(ByteReader& reader, Vote& vote) {
  if (auto status = detail::read_magic(reader, kVoteMagic, kVoteVersion); !status) {
    return status;
  }
  if (!reader.read_array(vote.authority_key)) {
    return make_error(ErrorCategory::kParse, "authority_key: truncated");
  }
  if (auto status = detail::read_period_seconds(reader, vote.period_seconds); !status) {
    return status;
  }
  if (!reader.read_be64(vote.period)) {
    return make_error(ErrorCategory::kParse, "period: truncated");
  }
  auto entries = read_entry_list(reader, vote.period);
  if (!entries) {
    return make_error(ErrorCategory::kParse, "entries: " + entries.error().message);
  }
  vote.entries = std::move(*entries);
  if (!reader.read_array(vote.signature)) {
    return make_error(ErrorCategory::kParse, "signature: truncated");
  }
  if (!reader.empty()) {
    return make_error(ErrorCategory::kParse, "signature: trailing bytes after the signature");
  }
  return {};
}

}  // namespace

Result<std::vector<std::uint8_t>> Vote::encode_unsigned() const {
  if (auto fault = vote_fault(*this)) {
    return make_error(ErrorCategory::kInvalidArgument, "vote: " + *fault);
  }
  std::vector<std::uint8_t> out;
  detail::append_magic(out, kVoteMagic, kVoteVersion);
  detail::append_bytes(out, authority_key);
  detail::append_be(out, period_seconds, 4);
  detail::append_be(out, period, 8);
  write_entry_list(out, entries);
  const std::size_t total = out.size() + crypto::kEd25519SignatureSize;
  if (total > kMaxDocument) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("vote: length: {} bytes, at most {}", total, kMaxDocument));
  }
  return out;
}

Result<std::vector<std::uint8_t>> Vote::encode() const {
  auto out = encode_unsigned();
  if (out) {
    detail::append_bytes(*out, signature);
  }
  return out;
}

Status Vote::sign(const crypto::Ed25519KeyPair& authority) {
  if (!crypto::ct_equal(authority.public_key, authority_key)) {
    return make_error(ErrorCategory::kInvalidArgument,
                      "vote: the signing key is not the authority key the vote names");
  }
  auto body = encode_unsigned();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  signature = authority.sign(detail::signing_message(kVoteSignatureContext, *body));
  return {};
}

Result<Vote> Vote::parse(Bytes encoded) {
  if (encoded.size() > kMaxDocument) {
    return make_error(ErrorCategory::kParse, fmt::format("vote: length: {} bytes, at most {}",
                                                         encoded.size(), kMaxDocument));
  }
  ByteReader reader(encoded);
  Vote vote;
  if (auto status = read_fields(reader, vote); !status) {
    return make_error(ErrorCategory::kParse, "vote: " + status.error().message);
  }
  return vote;
}

Status Vote::verify() const {
  // The parser is canonical, so re-encoding gives back the bytes received.
  auto body = encode_unsigned();
  if (!body) {
    return std::unexpected(std::move(body.error()));
  }
  if (!crypto::ed25519_verify(authority_key, detail::signing_message(kVoteSignatureContext, *body),
                              signature)) {
    return make_error(ErrorCategory::kCrypto,
                      fmt::format("vote: bad signature: not signed by the authority key it names "
                                  "({})",
                                  crypto::to_hex(authority_key)));
  }
  return verify_descriptors(entries);
}

}  // namespace nyx::document
