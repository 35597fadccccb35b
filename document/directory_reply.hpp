#pragma once
// DirectoryReply: what a directory server writes back on a stream (proposal
// 0002 section 4.4), version (1) || status (1) || the body of its status.
// What an OK body holds depends on the request it answers, so the reply is
// encoded and decoded for a request type. Documents travel as bytes, checked
// against their length bounds only; the consensus of an OK reply then goes
// through verify_consensus (section 6.3), a vote through Vote::parse.
//
// Which statuses answer which request: OK with the body of the request's
// type; NOT_MODIFIED only a GET_CONSENSUS; NOT_FOUND only a GET_*; REFUSED
// and BUSY any request. Anything else is refused as malformed.
//
// Value types and free functions with no state; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "document/consensus.hpp"
#include "document/directory_stream.hpp"

namespace nyx::document {

enum class DirectoryStatus : std::uint8_t {
  kOk = 0,
  kNotModified = 1,
  kNotFound = 2,
  kRefused = 3,
  kBusy = 4,
};

// Why a server refused a request (section 4.4, "Refusal reasons").
enum class RefusalReason : std::uint8_t {
  kMalformed = 1,
  kBadSignature = 2,
  kWrongEpoch = 3,
  kStale = 4,
  kUnreachable = 5,
  kNotAllowed = 6,
  kLimit = 7,
  kNotAuthority = 8,
  kUnknownVoter = 9,
  kClock = 10,
};

// The reason's name as the proposal and the logs spell it ("wrong_epoch").
std::string_view to_string(RefusalReason reason) noexcept;

// A REFUSED message is a str8: at most 255 bytes of UTF-8, for logs only.
inline constexpr std::size_t kMaxRefusalMessage = 255;

// OK to GET_CONSENSUS: the consensus, kMinConsensus..kMaxConsensus bytes.
struct ConsensusReply {
  std::vector<std::uint8_t> consensus;
  bool operator==(const ConsensusReply&) const = default;
};
// OK to POST_DESCRIPTOR: the epoch the descriptor was accepted for.
struct DescriptorAcceptedReply {
  std::uint64_t epoch = 0;
  bool operator==(const DescriptorAcceptedReply&) const = default;
};
// OK to POST_VOTE or POST_SIGNATURE: no body.
struct AcceptedReply {
  bool operator==(const AcceptedReply&) const = default;
};
// OK to GET_VOTE: the vote, kMinVote..kMaxVote bytes.
struct VoteReply {
  std::vector<std::uint8_t> vote;
  bool operator==(const VoteReply&) const = default;
};
// OK to GET_SIGNATURES: 1 to 32 signatures, strictly ascending by key.
struct SignaturesReply {
  std::vector<ConsensusSignature> signatures;
  bool operator==(const SignaturesReply&) const = default;
};
struct NotModifiedReply {
  bool operator==(const NotModifiedReply&) const = default;
};
struct NotFoundReply {
  bool operator==(const NotFoundReply&) const = default;
};
struct RefusedReply {
  RefusalReason reason = RefusalReason::kMalformed;
  std::string message;  // UTF-8, at most kMaxRefusalMessage bytes
  bool operator==(const RefusedReply&) const = default;
};
struct BusyReply {
  std::uint16_t retry_after_seconds = kMinRetryAfterSeconds;  // 1 to 3600
  bool operator==(const BusyReply&) const = default;
};

using DirectoryReply =
    std::variant<ConsensusReply, DescriptorAcceptedReply, AcceptedReply, VoteReply, SignaturesReply,
                 NotModifiedReply, NotFoundReply, RefusedReply, BusyReply>;

DirectoryStatus reply_status(const DirectoryReply& reply) noexcept;

// The reply's bytes as an answer to a request of `type`: kInvalidArgument,
// with the DirectoryStreamErrc the decoder would give, for a reply that
// cannot answer that type or breaks a bound, so nothing it refuses is written.
Result<std::vector<std::uint8_t>> encode_directory_reply(DirectoryRequestType type,
                                                         const DirectoryReply& reply);

// A reply to a request of `type` from the front of the bytes received so
// far: NeedMore until it is complete, then the reply and its size. kParse
// with a DirectoryStreamErrc code as soon as a rule is broken; each length
// or count is checked before what it announces is read.
Result<DecodeProgress<DirectoryReply>> decode_directory_reply(DirectoryRequestType type,
                                                              Bytes received);

// The reply of a stream the server has finished (FIN): `received` must hold
// exactly one reply (kTruncated, kTrailingBytes).
Result<DirectoryReply> decode_directory_reply_at_fin(DirectoryRequestType type, Bytes received);

}  // namespace nyx::document
