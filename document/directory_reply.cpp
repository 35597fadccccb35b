#include "document/directory_reply.hpp"

#include <algorithm>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "document/detail/append.hpp"
#include "document/detail/directory_stream_codec.hpp"

namespace nyx::document {
namespace {

constexpr std::string_view kWhat = "directory reply";
constexpr std::size_t kSignatureEntrySize =
    crypto::kEd25519PublicKeySize + crypto::kEd25519SignatureSize;

bool is_get(DirectoryRequestType type) {
  return type == DirectoryRequestType::kGetConsensus || type == DirectoryRequestType::kGetVote ||
         type == DirectoryRequestType::kGetSignatures;
}

// Whether a reply of `status` may answer a request of `type`.
bool status_answers(DirectoryRequestType type, DirectoryStatus status) {
  switch (status) {
    case DirectoryStatus::kNotModified:
      return type == DirectoryRequestType::kGetConsensus;
    case DirectoryStatus::kNotFound:
      return is_get(type);
    case DirectoryStatus::kOk:
    case DirectoryStatus::kRefused:
    case DirectoryStatus::kBusy:
      break;
  }
  return true;
}

// Whether `reply`, with its body, may answer a request of `type`.
bool reply_answers(DirectoryRequestType type, const DirectoryReply& reply) {
  if (reply_status(reply) != DirectoryStatus::kOk) {
    return status_answers(type, reply_status(reply));
  }
  switch (type) {
    case DirectoryRequestType::kGetConsensus:
      return std::holds_alternative<ConsensusReply>(reply);
    case DirectoryRequestType::kPostDescriptor:
      return std::holds_alternative<DescriptorAcceptedReply>(reply);
    case DirectoryRequestType::kPostVote:
    case DirectoryRequestType::kPostSignature:
      return std::holds_alternative<AcceptedReply>(reply);
    case DirectoryRequestType::kGetVote:
      return std::holds_alternative<VoteReply>(reply);
    case DirectoryRequestType::kGetSignatures:
      return std::holds_alternative<SignaturesReply>(reply);
  }
  return false;
}

// UTF-8 as RFC 3629 defines it: shortest forms only, no surrogates, nothing
// above U+10FFFF.
bool is_utf8(Bytes text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::uint8_t lead = text[i];
    std::size_t extra = 0;
    std::uint8_t low = 0x80;
    std::uint8_t high = 0xBF;  // the range of the first continuation byte
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      extra = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      extra = 2;
      low = lead == 0xE0 ? 0xA0 : 0x80;
      high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      extra = 3;
      low = lead == 0xF0 ? 0x90 : 0x80;
      high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (text.size() - i - 1 < extra) {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      const std::uint8_t next = text[i + k];
      const std::uint8_t min = k == 1 ? low : 0x80;
      const std::uint8_t max = k == 1 ? high : 0xBF;
      if (next < min || next > max) {
        return false;
      }
    }
    i += extra + 1;
  }
  return true;
}

bool signatures_ascending(const std::vector<ConsensusSignature>& signatures) {
  return std::adjacent_find(signatures.begin(), signatures.end(),
                            [](const ConsensusSignature& a, const ConsensusSignature& b) {
                              return a.authority_key >= b.authority_key;
                            }) == signatures.end();
}

std::unexpected<Error> invalid(DirectoryStreamErrc code, std::string why) {
  return make_error(ErrorCategory::kInvalidArgument, fmt::format("{}: {}", kWhat, why),
                    static_cast<int>(code));
}

// What the encoder refuses in a reply that answers its request's type.
Status reply_fault(const DirectoryReply& reply) {
  if (const auto* consensus = std::get_if<ConsensusReply>(&reply)) {
    if (consensus->consensus.size() < kMinConsensus ||
        consensus->consensus.size() > kMaxConsensus) {
      return invalid(DirectoryStreamErrc::kLengthOutOfBounds,
                     fmt::format("consensus: {} bytes", consensus->consensus.size()));
    }
  } else if (const auto* vote = std::get_if<VoteReply>(&reply)) {
    if (vote->vote.size() < kMinVote || vote->vote.size() > kMaxVote) {
      return invalid(DirectoryStreamErrc::kLengthOutOfBounds,
                     fmt::format("vote: {} bytes", vote->vote.size()));
    }
  } else if (const auto* signatures = std::get_if<SignaturesReply>(&reply)) {
    const std::size_t count = signatures->signatures.size();
    if (count < kMinConsensusSignatures || count > kMaxConsensusSignatures) {
      return invalid(DirectoryStreamErrc::kSignatureCount, fmt::format("count: {}", count));
    }
    if (!signatures_ascending(signatures->signatures)) {
      return invalid(DirectoryStreamErrc::kSignatureOrder, "signatures: not ascending by key");
    }
  } else if (const auto* refused = std::get_if<RefusedReply>(&reply)) {
    const auto reason = static_cast<std::uint8_t>(refused->reason);
    if (reason < static_cast<std::uint8_t>(RefusalReason::kMalformed) ||
        reason > static_cast<std::uint8_t>(RefusalReason::kClock)) {
      return invalid(DirectoryStreamErrc::kUnknownReason, fmt::format("reason: {}", reason));
    }
    if (refused->message.size() > kMaxRefusalMessage) {
      return invalid(DirectoryStreamErrc::kLengthOutOfBounds,
                     fmt::format("message: {} bytes", refused->message.size()));
    }
    if (!is_utf8(as_bytes(refused->message))) {
      return invalid(DirectoryStreamErrc::kBadMessageText, "message: not UTF-8");
    }
  } else if (const auto* busy = std::get_if<BusyReply>(&reply)) {
    if (busy->retry_after_seconds < kMinRetryAfterSeconds ||
        busy->retry_after_seconds > kMaxRetryAfterSeconds) {
      return invalid(DirectoryStreamErrc::kRetryAfterOutOfBounds,
                     fmt::format("retry_after: {}", busy->retry_after_seconds));
    }
  }
  return {};
}

void append_body(std::vector<std::uint8_t>& out, const DirectoryReply& reply) {
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, ConsensusReply>) {
          detail::append_be(out, body.consensus.size(), 4);
          detail::append_bytes(out, body.consensus);
        } else if constexpr (std::is_same_v<T, VoteReply>) {
          detail::append_be(out, body.vote.size(), 4);
          detail::append_bytes(out, body.vote);
        } else if constexpr (std::is_same_v<T, DescriptorAcceptedReply>) {
          detail::append_be(out, body.epoch, 8);
        } else if constexpr (std::is_same_v<T, SignaturesReply>) {
          out.push_back(static_cast<std::uint8_t>(body.signatures.size()));
          for (const ConsensusSignature& signature : body.signatures) {
            detail::append_bytes(out, signature.authority_key);
            detail::append_bytes(out, signature.signature);
          }
        } else if constexpr (std::is_same_v<T, RefusedReply>) {
          out.push_back(static_cast<std::uint8_t>(body.reason));
          out.push_back(static_cast<std::uint8_t>(body.message.size()));
          detail::append_bytes(out, as_bytes(body.message));
        } else if constexpr (std::is_same_v<T, BusyReply>) {
          detail::append_be(out, body.retry_after_seconds, 2);
        }
        // AcceptedReply, NotModifiedReply and NotFoundReply have no body.
      },
      reply);
}

using Progress = Result<DecodeProgress<DirectoryReply>>;
constexpr std::size_t kBody = kDirectoryHeaderSize;

// length (4) || document, for the reply alternative `Reply`.
template <class Reply>
Progress decode_document(Bytes received, std::size_t min, std::size_t max, std::string_view field) {
  if (auto need = detail::missing(received, kBody + 4)) {
    return *need;
  }
  const std::size_t length = detail::load_length(received, kBody, 4);
  if (auto fault = detail::length_fault(kWhat, field, length, min, max)) {
    return *fault;
  }
  const std::size_t end = kBody + 4 + length;
  if (auto need = detail::missing(received, end)) {
    return *need;
  }
  const Bytes document = received.subspan(kBody + 4, length);
  return Decoded<DirectoryReply>{Reply{{document.begin(), document.end()}}, end};
}

Progress decode_signatures(Bytes received) {
  if (auto need = detail::missing(received, kBody + 1)) {
    return *need;
  }
  const std::size_t count = received[kBody];
  if (count < kMinConsensusSignatures || count > kMaxConsensusSignatures) {
    return detail::stream_error(kWhat, DirectoryStreamErrc::kSignatureCount,
                                fmt::format("count: {}, expected {} to {}", count,
                                            kMinConsensusSignatures, kMaxConsensusSignatures));
  }
  const std::size_t end = kBody + 1 + count * kSignatureEntrySize;
  if (auto need = detail::missing(received, end)) {
    return *need;
  }
  ByteReader reader(received.subspan(kBody + 1, count * kSignatureEntrySize));
  SignaturesReply reply;
  reply.signatures.resize(count);
  for (ConsensusSignature& signature : reply.signatures) {
    reader.read_array(signature.authority_key);  // the size was checked above
    reader.read_array(signature.signature);
  }
  if (!signatures_ascending(reply.signatures)) {
    return detail::stream_error(kWhat, DirectoryStreamErrc::kSignatureOrder,
                                "signatures: keys not strictly ascending");
  }
  return Decoded<DirectoryReply>{std::move(reply), end};
}

Progress decode_ok(DirectoryRequestType type, Bytes received) {
  switch (type) {
    case DirectoryRequestType::kGetConsensus:
      return decode_document<ConsensusReply>(received, kMinConsensus, kMaxConsensus, "consensus");
    case DirectoryRequestType::kPostDescriptor:
      if (auto need = detail::missing(received, kBody + 8)) {
        return *need;
      }
      return Decoded<DirectoryReply>{DescriptorAcceptedReply{load_be64(received.data() + kBody)},
                                     kBody + 8};
    case DirectoryRequestType::kPostVote:
    case DirectoryRequestType::kPostSignature:
      return Decoded<DirectoryReply>{AcceptedReply{}, kBody};
    case DirectoryRequestType::kGetVote:
      return decode_document<VoteReply>(received, kMinVote, kMaxVote, "vote");
    case DirectoryRequestType::kGetSignatures:
      return decode_signatures(received);
  }
  return detail::stream_error(kWhat, DirectoryStreamErrc::kUnknownType,
                              "answers a request of an unknown type");
}

Progress decode_refused(Bytes received) {
  if (auto need = detail::missing(received, kBody + 1)) {
    return *need;
  }
  const std::uint8_t reason = received[kBody];
  if (reason < static_cast<std::uint8_t>(RefusalReason::kMalformed) ||
      reason > static_cast<std::uint8_t>(RefusalReason::kClock)) {
    return detail::stream_error(kWhat, DirectoryStreamErrc::kUnknownReason,
                                fmt::format("reason: {} is not 1 to 10", reason));
  }
  if (auto need = detail::missing(received, kBody + 2)) {
    return *need;
  }
  const std::size_t length = received[kBody + 1];
  const std::size_t end = kBody + 2 + length;
  if (auto need = detail::missing(received, end)) {
    return *need;
  }
  const Bytes text = received.subspan(kBody + 2, length);
  if (!is_utf8(text)) {
    return detail::stream_error(kWhat, DirectoryStreamErrc::kBadMessageText, "message: not UTF-8");
  }
  return Decoded<DirectoryReply>{
      RefusedReply{static_cast<RefusalReason>(reason),
                   std::string(reinterpret_cast<const char*>(text.data()), text.size())},
      end};
}

Progress decode_busy(Bytes received) {
  if (auto need = detail::missing(received, kBody + 2)) {
    return *need;
  }
  const std::uint16_t retry_after = load_be16(received.data() + kBody);
  if (retry_after < kMinRetryAfterSeconds || retry_after > kMaxRetryAfterSeconds) {
    return detail::stream_error(kWhat, DirectoryStreamErrc::kRetryAfterOutOfBounds,
                                fmt::format("retry_after: {} s, expected {} to {}", retry_after,
                                            kMinRetryAfterSeconds, kMaxRetryAfterSeconds));
  }
  return Decoded<DirectoryReply>{BusyReply{retry_after}, kBody + 2};
}

}  // namespace

DirectoryStatus reply_status(const DirectoryReply& reply) noexcept {
  if (std::holds_alternative<NotModifiedReply>(reply)) {
    return DirectoryStatus::kNotModified;
  }
  if (std::holds_alternative<NotFoundReply>(reply)) {
    return DirectoryStatus::kNotFound;
  }
  if (std::holds_alternative<RefusedReply>(reply)) {
    return DirectoryStatus::kRefused;
  }
  if (std::holds_alternative<BusyReply>(reply)) {
    return DirectoryStatus::kBusy;
  }
  return DirectoryStatus::kOk;
}

Result<std::vector<std::uint8_t>> encode_directory_reply(DirectoryRequestType type,
                                                         const DirectoryReply& reply) {
  if (!reply_answers(type, reply)) {
    return invalid(DirectoryStreamErrc::kStatusNotForRequest,
                   fmt::format("status {} with that body does not answer request type {}",
                               static_cast<int>(reply_status(reply)), static_cast<int>(type)));
  }
  if (auto status = reply_fault(reply); !status) {
    return std::unexpected(std::move(status.error()));
  }
  std::vector<std::uint8_t> out{kDirectoryStreamVersion,
                                static_cast<std::uint8_t>(reply_status(reply))};
  append_body(out, reply);
  return out;
}

Result<DecodeProgress<DirectoryReply>> decode_directory_reply(DirectoryRequestType type,
                                                              Bytes received) {
  if (auto outcome = detail::header_outcome<DirectoryReply>(kWhat, received)) {
    return std::move(*outcome);
  }
  if (received[1] > static_cast<std::uint8_t>(DirectoryStatus::kBusy)) {
    return detail::stream_error(kWhat, DirectoryStreamErrc::kUnknownStatus,
                                fmt::format("status: {} is not 0 to 4", received[1]));
  }
  const auto status = static_cast<DirectoryStatus>(received[1]);
  if (!status_answers(type, status)) {
    return detail::stream_error(kWhat, DirectoryStreamErrc::kStatusNotForRequest,
                                fmt::format("status {} does not answer request type {}",
                                            received[1], static_cast<int>(type)));
  }
  switch (status) {
    case DirectoryStatus::kOk:
      return decode_ok(type, received);
    case DirectoryStatus::kNotModified:
      return Decoded<DirectoryReply>{NotModifiedReply{}, kBody};
    case DirectoryStatus::kNotFound:
      return Decoded<DirectoryReply>{NotFoundReply{}, kBody};
    case DirectoryStatus::kRefused:
      return decode_refused(received);
    case DirectoryStatus::kBusy:
      break;
  }
  return decode_busy(received);
}

Result<DirectoryReply> decode_directory_reply_at_fin(DirectoryRequestType type, Bytes received) {
  return detail::complete_at_fin(kWhat, "reply", decode_directory_reply(type, received),
                                 received.size());
}

std::string_view to_string(RefusalReason reason) noexcept {
  switch (reason) {
    case RefusalReason::kMalformed:
      return "malformed";
    case RefusalReason::kBadSignature:
      return "bad_signature";
    case RefusalReason::kWrongEpoch:
      return "wrong_epoch";
    case RefusalReason::kStale:
      return "stale";
    case RefusalReason::kUnreachable:
      return "unreachable";
    case RefusalReason::kNotAllowed:
      return "not_allowed";
    case RefusalReason::kLimit:
      return "limit";
    case RefusalReason::kNotAuthority:
      return "not_authority";
    case RefusalReason::kUnknownVoter:
      return "unknown_voter";
    case RefusalReason::kClock:
      return "clock";
  }
  return "unknown";
}

}  // namespace nyx::document
