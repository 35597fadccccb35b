#pragma once
// DirectoryRequest: what a client writes on a directory stream (proposal
// 0002 section 4.3), version (1) || type (1) || the fields of its type.
// Documents travel as the bytes their senders wrote: the codec checks their
// lengths against the bounds of section 2.1, and the server parses them with
// their own parsers (a descriptor, vote or signature message that does not
// parse is REFUSED malformed there, section 5.1).
//
// "From an authority" and "from the descriptor's link key" are checks on the
// link, made by the server, not here.
//
// Value types and free functions with no state; thread-safe.

#include <array>
#include <cstdint>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/consensus.hpp"
#include "document/directory_stream.hpp"
#include "document/signature_message.hpp"

namespace nyx::document {

struct GetConsensusRequest {
  std::uint64_t have_period = 0;  // the newest q the client holds, 0 if none
  bool operator==(const GetConsensusRequest&) const = default;
};

struct PostDescriptorRequest {
  std::vector<std::uint8_t> descriptor;  // a signed descriptor, kMinDescriptor..kMaxDescriptor
  bool operator==(const PostDescriptorRequest&) const = default;
};

struct PostVoteRequest {
  std::vector<std::uint8_t> vote;  // kMinVote..kMaxVote bytes
  bool operator==(const PostVoteRequest&) const = default;
};

struct GetVoteRequest {
  std::uint64_t period = 0;
  crypto::Ed25519PublicKey authority_key{};
  bool operator==(const GetVoteRequest&) const = default;
};

struct PostSignatureRequest {
  std::array<std::uint8_t, kSignatureMessageSize> signature_message{};
  bool operator==(const PostSignatureRequest&) const = default;
};

struct GetSignaturesRequest {
  std::uint64_t period = 0;
  ConsensusDigest consensus_digest{};
  bool operator==(const GetSignaturesRequest&) const = default;
};

// The alternatives in the order of their type values, 1 to 6.
using DirectoryRequest = std::variant<GetConsensusRequest, PostDescriptorRequest, PostVoteRequest,
                                      GetVoteRequest, PostSignatureRequest, GetSignaturesRequest>;

DirectoryRequestType request_type(const DirectoryRequest& request) noexcept;

// The request's bytes; kInvalidArgument (code kLengthOutOfBounds) for a
// document outside its bounds, so nothing the decoder refuses is written.
Result<std::vector<std::uint8_t>> encode_directory_request(const DirectoryRequest& request);

// A request from the front of the bytes a stream has delivered so far:
// NeedMore until it is complete, then the request and its size. kParse with
// a DirectoryStreamErrc code for a bad version or type, or a length outside
// its bounds (found as soon as the length field is in, before the body).
// Bytes after the request are left to the caller: section 4.2 makes them a
// protocol error, which decode_directory_request_at_fin reports.
Result<DecodeProgress<DirectoryRequest>> decode_directory_request(Bytes received);

// The request of a stream whose client has finished its direction (FIN):
// `received` must hold exactly one request (kTruncated, kTrailingBytes).
Result<DirectoryRequest> decode_directory_request_at_fin(Bytes received);

}  // namespace nyx::document
