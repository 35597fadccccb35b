#include "document/directory_request.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "document/detail/append.hpp"
#include "document/detail/directory_stream_codec.hpp"

namespace nyx::document {
namespace {

constexpr std::string_view kRequestWhat = "directory request";

// How the fields after the header are laid out: either a fixed size, or a
// length field of `length_width` bytes announcing a document of min..max.
struct RequestShape {
  std::size_t fixed_size = 0;
  std::size_t length_width = 0;
  std::size_t min = 0;
  std::size_t max = 0;
  std::string_view field;
};

constexpr RequestShape fixed(std::size_t size) { return {size, 0, 0, 0, {}}; }

constexpr RequestShape length_prefixed(std::size_t width, std::size_t min, std::size_t max,
                                       std::string_view field) {
  return {0, width, min, max, field};
}

RequestShape shape_of(DirectoryRequestType type) {
  switch (type) {
    case DirectoryRequestType::kGetConsensus:
      return fixed(8);
    case DirectoryRequestType::kPostDescriptor:
      return length_prefixed(2, kMinDescriptor, kMaxDescriptor, "descriptor");
    case DirectoryRequestType::kPostVote:
      return length_prefixed(4, kMinVote, kMaxVote, "vote");
    case DirectoryRequestType::kGetVote:
      return fixed(8 + crypto::kEd25519PublicKeySize);
    case DirectoryRequestType::kPostSignature:
      return fixed(kSignatureMessageSize);
    case DirectoryRequestType::kGetSignatures:
      return fixed(8 + std::tuple_size_v<ConsensusDigest>);
  }
  return fixed(0);  // the decoder refuses other types before it asks
}

template <std::size_t N>
std::array<std::uint8_t, N> copy_array(Bytes from) {
  std::array<std::uint8_t, N> out{};
  std::copy_n(from.begin(), N, out.begin());
  return out;
}

// The fields of a complete request; `body` is exactly what its shape says.
DirectoryRequest read_body(DirectoryRequestType type, Bytes body) {
  switch (type) {
    case DirectoryRequestType::kGetConsensus:
      return GetConsensusRequest{load_be64(body.data())};
    case DirectoryRequestType::kPostDescriptor:
      return PostDescriptorRequest{{body.begin(), body.end()}};
    case DirectoryRequestType::kPostVote:
      return PostVoteRequest{{body.begin(), body.end()}};
    case DirectoryRequestType::kGetVote:
      return GetVoteRequest{load_be64(body.data()),
                            copy_array<crypto::kEd25519PublicKeySize>(body.subspan(8))};
    case DirectoryRequestType::kPostSignature:
      return PostSignatureRequest{copy_array<kSignatureMessageSize>(body)};
    case DirectoryRequestType::kGetSignatures:
      return GetSignaturesRequest{load_be64(body.data()),
                                  copy_array<std::tuple_size_v<ConsensusDigest>>(body.subspan(8))};
  }
  return GetConsensusRequest{};  // unreachable: the type was checked
}

// A document with its length field; kInvalidArgument outside its bounds.
Status append_document(std::vector<std::uint8_t>& out, DirectoryRequestType type,
                       const std::vector<std::uint8_t>& document) {
  const RequestShape shape = shape_of(type);
  if (document.size() < shape.min || document.size() > shape.max) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("{}: {}: {} bytes, expected {} to {}", kRequestWhat, shape.field,
                                  document.size(), shape.min, shape.max),
                      static_cast<int>(DirectoryStreamErrc::kLengthOutOfBounds));
  }
  detail::append_be(out, document.size(), static_cast<int>(shape.length_width));
  detail::append_bytes(out, document);
  return {};
}

}  // namespace

DirectoryRequestType request_type(const DirectoryRequest& request) noexcept {
  return static_cast<DirectoryRequestType>(request.index() + 1);
}

Result<std::vector<std::uint8_t>> encode_directory_request(const DirectoryRequest& request) {
  const DirectoryRequestType type = request_type(request);
  std::vector<std::uint8_t> out{kDirectoryStreamVersion, static_cast<std::uint8_t>(type)};
  Status status = std::visit(
      [&](const auto& fields) -> Status {
        using T = std::decay_t<decltype(fields)>;
        if constexpr (std::is_same_v<T, GetConsensusRequest>) {
          detail::append_be(out, fields.have_period, 8);
        } else if constexpr (std::is_same_v<T, PostDescriptorRequest>) {
          return append_document(out, type, fields.descriptor);
        } else if constexpr (std::is_same_v<T, PostVoteRequest>) {
          return append_document(out, type, fields.vote);
        } else if constexpr (std::is_same_v<T, GetVoteRequest>) {
          detail::append_be(out, fields.period, 8);
          detail::append_bytes(out, fields.authority_key);
        } else if constexpr (std::is_same_v<T, PostSignatureRequest>) {
          detail::append_bytes(out, fields.signature_message);
        } else {
          detail::append_be(out, fields.period, 8);
          detail::append_bytes(out, fields.consensus_digest);
        }
        return {};
      },
      request);
  if (!status) {
    return std::unexpected(std::move(status.error()));
  }
  return out;
}

Result<DecodeProgress<DirectoryRequest>> decode_directory_request(Bytes received) {
  if (auto outcome = detail::header_outcome<DirectoryRequest>(kRequestWhat, received)) {
    return std::move(*outcome);
  }
  if (received[1] < static_cast<std::uint8_t>(DirectoryRequestType::kGetConsensus) ||
      received[1] > static_cast<std::uint8_t>(DirectoryRequestType::kGetSignatures)) {
    return detail::stream_error(kRequestWhat, DirectoryStreamErrc::kUnknownType,
                                fmt::format("type: {} is not 1 to 6", received[1]));
  }
  const auto type = static_cast<DirectoryRequestType>(received[1]);
  const RequestShape shape = shape_of(type);
  std::size_t at = kDirectoryHeaderSize;
  std::size_t body_size = shape.fixed_size;
  if (shape.length_width != 0) {
    if (auto need = detail::missing(received, at + shape.length_width)) {
      return *need;
    }
    body_size = detail::load_length(received, at, shape.length_width);
    if (auto fault =
            detail::length_fault(kRequestWhat, shape.field, body_size, shape.min, shape.max)) {
      return *fault;
    }
    at += shape.length_width;
  }
  if (auto need = detail::missing(received, at + body_size)) {
    return *need;
  }
  return Decoded<DirectoryRequest>{read_body(type, received.subspan(at, body_size)),
                                   at + body_size};
}

Result<DirectoryRequest> decode_directory_request_at_fin(Bytes received) {
  return detail::complete_at_fin(kRequestWhat, "request", decode_directory_request(received),
                                 received.size());
}

}  // namespace nyx::document
