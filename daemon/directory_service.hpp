#pragma once
// DirectoryService: what answers the requests of directory streams
// (proposal 0002, sections 4.3 to 4.5), behind the DirectoryServer that
// reads them off CREATE_DIR circuits. The server knows streams and bytes;
// a service knows documents. An answer is a reply to encode, or the held
// consensus itself, written from its one immutable shared buffer so that
// serving it copies nothing per client (section 4.5).
//
// HeldConsensusService: the service of every node with the relay or
// authority role. GET_CONSENSUS is served from the newest consensus held
// (pending or installed, section 4.5): NOT_FOUND while none is held,
// NOT_MODIFIED when the client's have_period is not older. The authority
// requests (types 2 to 6) go to an attached authority service, and are
// REFUSED not_authority without one, on their header alone.
//
// Owned by the node; every call on the cell shard's thread. An attached
// authority must outlive the service, or be detached first.

#include <cstdint>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include <asio/awaitable.hpp>

#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "transport/peer_key.hpp"

namespace nyx::daemon {

// A document held once and shared by every stream that serves it.
using SharedDocument = std::shared_ptr<const std::vector<std::uint8_t>>;

// A reply to encode, or (for an OK to GET_CONSENSUS only) the consensus's
// bytes as held.
using DirectoryAnswer = std::variant<document::DirectoryReply, SharedDocument>;

// What the server knows of where a request came from.
struct DirectoryRequestContext {
  // The static key of the link the circuit came over, when the channel is a
  // circuit: "from an authority" and POST_DESCRIPTOR's link check (section
  // 4.3) are made against it.
  std::optional<transport::PeerKey> link_peer;
};

class DirectoryService {
 public:
  virtual ~DirectoryService() = default;
  // An answer from a request's header alone, before its body is read, or
  // nothing to read the whole request. A refusal that depends only on the
  // type and the link (not an authority, not from an authority) is given
  // here, so that a stranger's announced 16 MiB vote never reaches memory
  // (section 4.3). The server then throws the body away unread.
  virtual std::optional<document::DirectoryReply> screen(
      document::DirectoryRequestType /*type*/, const DirectoryRequestContext& /*context*/) {
    return std::nullopt;
  }
  // Answers one complete request; the server encodes and writes the answer.
  virtual asio::awaitable<DirectoryAnswer> answer(const document::DirectoryRequest& request,
                                                  const DirectoryRequestContext& context) = 0;
};

class HeldConsensusService final : public DirectoryService {
 public:
  // Holds consensus `period` when it is newer than the one held (an older
  // or equal one is ignored: a server never goes back). Precondition: it
  // passed verification (section 6.3).
  void hold(std::uint64_t period, SharedDocument consensus);
  std::optional<std::uint64_t> held_period() const noexcept {
    return consensus_ ? std::optional(period_) : std::nullopt;
  }
  // Where requests of types 2 to 6 go; null detaches it.
  void attach_authority(DirectoryService* authority) noexcept { authority_ = authority; }

  // Types 2 to 6 without an authority: REFUSED not_authority at once;
  // with one, whatever it screens.
  std::optional<document::DirectoryReply> screen(document::DirectoryRequestType type,
                                                 const DirectoryRequestContext& context) override;
  asio::awaitable<DirectoryAnswer> answer(const document::DirectoryRequest& request,
                                          const DirectoryRequestContext& context) override;

 private:
  DirectoryAnswer get_consensus(const document::GetConsensusRequest& request) const;

  std::uint64_t period_ = 0;
  SharedDocument consensus_;
  DirectoryService* authority_ = nullptr;
};

}  // namespace nyx::daemon
