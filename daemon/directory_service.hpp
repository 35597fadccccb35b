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
// REFUSED not_authority without one, on their header alone. Replies are
// counted in nyx_directory_requests_served_total by the DirectoryServer
// once written in full, not here.
//
// Signatures that reach an authority after it published, before T, are
// added to the copy served (section 5.6): hold() takes a second copy of the
// period held when its body is the same and it carries strictly more valid
// signatures of configured authorities. Another body for the period held,
// itself signed by enough authorities, is authority equivocation: it is
// refused, logged at warn and counted, and the held copy stays. Counting
// signatures needs the node's trust; a service made without one takes the
// caller's word for a newer period and never takes a second copy.
//
// Owned by the node; every call on the cell shard's thread. An attached
// authority must outlive the service, or be detached first.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>

#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "document/verify_consensus.hpp"
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
  // That link's remote address, when known: a stranger's uploads are
  // limited by its group (section 4.5), since its link keys cost nothing.
  std::optional<asio::ip::address> link_address = std::nullopt;
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

// What hold() did with a copy.
enum class HoldOutcome : std::uint8_t {
  kHeld,              // a newer period: served from now on
  kMoreSignatures,    // the period held, same body, more valid signatures: served from now on
  kOlder,             // an older period: ignored, a server never goes back
  kNoMoreSignatures,  // the period held, same body, no more valid signatures: ignored
  // No document, or one that does not parse or verify under the trust, or
  // (without a trust) any copy of the period held: refused.
  kUnverified,
  kEquivocation,  // the period held with another signed body: refused, logged
};
inline constexpr std::size_t kHoldOutcomes = 6;

class HeldConsensusService final : public DirectoryService {
 public:
  // Without a trust: see the class comment.
  HeldConsensusService() = default;
  explicit HeldConsensusService(document::ConsensusTrust trust) : trust_(std::move(trust)) {}

  // Offers consensus `period`. Precondition for a newer period: it passed
  // verification (section 6.3); with a trust, its signatures are counted
  // again here (check 7) and a copy below the threshold is refused. A copy of
  // the period held is taken only as the class comment says.
  HoldOutcome hold(std::uint64_t period, SharedDocument consensus);
  // How many copies hold() answered with `outcome`.
  std::uint64_t held_count(HoldOutcome outcome) const noexcept {
    return outcomes_[static_cast<std::size_t>(outcome)];
  }
  // Valid signatures of configured authorities on the copy served (with a
  // trust and a consensus held; else nothing).
  std::optional<std::size_t> held_signatures() const noexcept {
    return consensus_ && trust_ ? std::optional(held_signers_.size()) : std::nullopt;
  }
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

  HoldOutcome take(std::uint64_t period, SharedDocument consensus);
  HoldOutcome take_same_period(SharedDocument consensus);
  HoldOutcome counted(HoldOutcome outcome) noexcept {
    ++outcomes_[static_cast<std::size_t>(outcome)];
    return outcome;
  }

  std::optional<document::ConsensusTrust> trust_;
  std::uint64_t period_ = 0;
  SharedDocument consensus_;
  // With a trust: the held copy's body length and the configured
  // authorities whose signatures on it verify, sorted.
  std::size_t held_body_size_ = 0;
  std::vector<crypto::Ed25519PublicKey> held_signers_;
  std::array<std::uint64_t, kHoldOutcomes> outcomes_{};
  DirectoryService* authority_ = nullptr;
};

}  // namespace nyx::daemon
