#pragma once
// What the request and reply codecs of a directory stream share (proposal
// 0002 sections 4.2 to 4.5): the version byte, the request types, the error
// codes a refused stream carries, the incremental decode result, and the
// limits of section 4.5 as named constants for the server and the client.
//
// A directory stream carries one request and one reply, each arriving over a
// byte stream in pieces. The decoders are total and incremental: given the
// bytes received so far they answer "need N more bytes", a value and the
// bytes it used, or an error. Every length field is checked against its
// bound as soon as it is read, before the body arrives, so a caller that
// buffers only what the decoder asks for never holds more than the bound.
//
// Constants and plain types only; thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <variant>

#include "document/limits.hpp"
#include "document/signed_descriptor.hpp"

namespace nyx::document {

inline constexpr std::uint8_t kDirectoryStreamVersion = 1;

enum class DirectoryRequestType : std::uint8_t {
  kGetConsensus = 1,
  kPostDescriptor = 2,
  kPostVote = 3,
  kGetVote = 4,
  kPostSignature = 5,
  kGetSignatures = 6,
};

// Error::code of every kParse error the directory stream decoders return.
// All of them are "malformed" to the peer (REFUSED 1, or a failed attempt);
// the codes tell tests, logs and metrics which rule the bytes broke.
enum class DirectoryStreamErrc : int {
  kBadVersion = 1,             // version byte other than 1
  kUnknownType = 2,            // request type outside 1..6
  kUnknownStatus = 3,          // reply status above 4
  kLengthOutOfBounds = 4,      // a length field outside the bounds of what it announces
  kTruncated = 5,              // the stream ended (FIN) before the message was complete
  kTrailingBytes = 6,          // bytes after a complete message
  kUnknownReason = 7,          // REFUSED reason 0 or above 10
  kBadMessageText = 8,         // REFUSED message that is not UTF-8
  kRetryAfterOutOfBounds = 9,  // BUSY retry_after outside 1..3600
  kSignatureCount = 10,        // GET_SIGNATURES count outside 1..32
  kSignatureOrder = 11,        // GET_SIGNATURES keys not strictly ascending
  kStatusNotForRequest = 12,   // a status the request's type cannot be answered with
};

// Every message opens with version (1) and a type or status (1).
inline constexpr std::size_t kDirectoryHeaderSize = 2;

// Bounds of the documents a stream carries (sections 2.1, 3.3, 3.4). The
// smallest vote lists nothing: magic, version, key, P, q, count, signature.
inline constexpr std::size_t kMinVote = 6 + 1 + 32 + 4 + 8 + 2 + 64;
inline constexpr std::size_t kMaxVote = kMaxDocument;
// The smallest consensus lists nothing and carries one signature.
inline constexpr std::size_t kMinConsensus = 6 + 1 + 4 + 8 + 2 + 1 + 32 + 64;
inline constexpr std::size_t kMaxConsensus = kMaxDocument;
inline constexpr std::size_t kMinDescriptor = kMinSignedDescriptor;
inline constexpr std::size_t kMaxDescriptor = kMaxSignedDescriptor;

// The largest request (POST_VOTE) and reply (GET_CONSENSUS or GET_VOTE OK).
inline constexpr std::size_t kMaxDirectoryRequest = kDirectoryHeaderSize + 4 + kMaxVote;
inline constexpr std::size_t kMaxDirectoryReply = kDirectoryHeaderSize + 4 + kMaxDocument;

// BUSY retry_after, in seconds.
inline constexpr std::uint16_t kMinRetryAfterSeconds = 1;
inline constexpr std::uint16_t kMaxRetryAfterSeconds = 3600;

// Section 4.2: streams on one directory circuit, and how long a session
// waits for a new stream before it closes.
inline constexpr std::size_t kMaxDirectoryStreamsPerSession = 4;
inline constexpr std::chrono::seconds kDirectorySessionIdle{30};

// Section 4.5, server side: POST_DESCRIPTOR per neighbour group (section 9)
// and period; past it, and past the stream cap, the server answers BUSY.
// GET_CONSENSUS has no rate of its own: each CREATE_DIR under it already
// took a token from its group's CREATE bucket.
inline constexpr std::size_t kPostDescriptorPerPeriod = 6;
inline constexpr std::size_t kMaxDirectoryStreamsPerServer = 64;
// A request not complete within this time ends its stream with a reset.
inline constexpr std::chrono::seconds kRequestTimeout{10};
inline constexpr std::chrono::seconds kPostVoteRequestTimeout{60};

// Section 4.5, client side: a reply not complete within this time fails the
// attempt; the next cache is tried after a back-off that starts at
// kFetchRetryInitial and doubles, capped at u (Period::unit()).
inline constexpr std::chrono::seconds kReplyTimeout{30};
inline constexpr std::chrono::seconds kFetchRetryInitial{1};

// The request timeout of section 4.5 for a request of `type`.
constexpr std::chrono::seconds request_timeout(DirectoryRequestType type) noexcept {
  return type == DirectoryRequestType::kPostVote ? kPostVoteRequestTimeout : kRequestTimeout;
}

// The decoder cannot go on before this many more bytes have arrived. More
// may be needed after them (a length field announces the body).
struct NeedMore {
  std::size_t bytes = 0;
};

// A complete message and how many input bytes it took.
template <class T>
struct Decoded {
  T value;
  std::size_t consumed = 0;
};

template <class T>
using DecodeProgress = std::variant<NeedMore, Decoded<T>>;

}  // namespace nyx::document
