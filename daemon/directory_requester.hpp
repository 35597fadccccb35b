#pragma once
// DirectoryRequester: the client side of one directory request (proposal
// 0002, sections 4.2 to 4.5). request() opens a one-hop CREATE_DIR circuit
// to the source, runs an initiator stream session on it (MAX_STREAMS 4: a
// stream beyond the peer's limit is a session error), opens one stream,
// writes the encoded request and its FIN, reads the reply incrementally up
// to the server's FIN (document::decode_directory_reply refuses a bad reply
// as soon as its bytes break a rule, so an announced 16 MiB is refused
// before it is held), and closes the circuit. One timeout covers the whole
// request, the circuit's setup included (section 4.5: 30 s). Every failure
// is a value: kTimeout, kClosed (the circuit or stream ended), kParse (the
// reply was malformed, with a DirectoryStreamErrc code), kNotFound or kIo
// (the source could not be reached).
//
// Where the circuit comes from is a seam: RelayDirectoryCircuits opens it on
// the node's Relay after telling the link layer the source's endpoints (the
// transport reaches only peers it knows, section 6.1); tests may give any
// DatagramChannel.
//
// Owned by the directory client of one shard; every call on that shard's
// thread. Several requests may run at once, each in its own coroutine.

#include <chrono>
#include <functional>
#include <memory>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/crypto/x25519.hpp"
#include "core/datagram_channel.hpp"
#include "core/error.hpp"
#include "document/consensus_tracker.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_request.hpp"
#include "stream/session.hpp"

namespace nyx::mix {
class Relay;
}  // namespace nyx::mix

namespace nyx::transport {
class LinkManager;
}  // namespace nyx::transport

namespace nyx::daemon {

class CircuitSession;
class DirectoryServer;

// An open directory circuit, as the requester uses it.
struct DirectoryCircuit {
  std::unique_ptr<DatagramChannel> channel;
  // Sets (or, with an empty function, clears) what to call when the channel
  // closes under its user (a DESTROY, the link's end). Empty for a channel
  // that never closes by itself.
  std::function<void(std::function<void()>)> set_closed_handler;
};

// Opens directory circuits: the seam between the requester and the mix layer.
class DirectoryCircuitSource {
 public:
  virtual ~DirectoryCircuitSource() = default;
  // A circuit to `source`, once it is open; an error when it cannot be
  // started or closes before it opens. Cancelling the wait abandons it.
  virtual asio::awaitable<Result<DirectoryCircuit>> open(
      const document::DirectorySource& source) = 0;
};

// CREATE_DIR circuits from the node's Relay. Each open() first registers the
// source's endpoints with the LinkManager (add_peer), as the cell shard does
// for a directory's nodes, so a source that is in no consensus yet (an
// authority, a fallback) is reachable. Both must outlive it; same thread.
//
// A source whose link key is the node's own is the node itself (a relay
// that is also an authority uploads its descriptor to every authority). No
// circuit reaches it: once answer_locally() is given the node's server, such
// a source gets a LoopbackChannel into that server instead, as a circuit
// from the node's own link would (its context names the node's link key,
// so POST_DESCRIPTOR's link check holds). Without it, a circuit is tried and
// fails.
class RelayDirectoryCircuits final : public DirectoryCircuitSource {
 public:
  RelayDirectoryCircuits(mix::Relay& relay, transport::LinkManager& links)
      : relay_(relay), links_(links) {}

  // Requests to `own_link_key` go to `server`, which must outlive this.
  void answer_locally(const crypto::X25519PublicKey& own_link_key, DirectoryServer& server);

  asio::awaitable<Result<DirectoryCircuit>> open(const document::DirectorySource& source) override;

 private:
  DirectoryCircuit open_local(asio::any_io_executor executor);

  mix::Relay& relay_;
  transport::LinkManager& links_;
  crypto::X25519PublicKey own_link_key_{};
  DirectoryServer* local_server_ = nullptr;
};

struct DirectoryRequesterOptions {
  // The stream session's configuration; max_concurrent_streams is set to
  // document::kMaxDirectoryStreamsPerSession whatever it says.
  stream::SessionConfig session{};
  // Section 4.5: the whole request, circuit setup to the reply's FIN.
  Nanos timeout = std::chrono::duration_cast<Nanos>(document::kReplyTimeout);
};

class DirectoryRequester {
 public:
  // `timers` must be the service whose clock() is `clock`; `circuits` must
  // outlive the requester.
  DirectoryRequester(asio::any_io_executor executor, const Clock& clock,
                     async::TimerService& timers, DirectoryCircuitSource& circuits,
                     DirectoryRequesterOptions options = {});

  // One request to `source` and its reply, or why there is none.
  asio::awaitable<Result<document::DirectoryReply>> request(
      const document::DirectorySource& source, const document::DirectoryRequest& request);

  const DirectoryRequesterOptions& options() const noexcept { return options_; }

 private:
  asio::awaitable<Result<document::DirectoryReply>> run(const document::DirectorySource& source,
                                                        std::vector<std::uint8_t> encoded,
                                                        document::DirectoryRequestType type);
  // On the open stream `id` of `session`: writes `encoded` and our FIN, then
  // reads the reply incrementally up to the server's FIN.
  static asio::awaitable<Result<document::DirectoryReply>> exchange(
      CircuitSession& session, stream::StreamId id, const std::vector<std::uint8_t>& encoded,
      document::DirectoryRequestType type);

  asio::any_io_executor executor_;
  const Clock& clock_;
  async::TimerService& timers_;
  DirectoryCircuitSource& circuits_;
  DirectoryRequesterOptions options_;
};

}  // namespace nyx::daemon
