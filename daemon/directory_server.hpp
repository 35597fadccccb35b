#pragma once
// DirectoryServer: the server side of directory streams (proposal 0002,
// sections 4.2 to 4.5). Every CREATE_DIR circuit that ends at this node
// (Relay::set_directory_handler) gets a responder CircuitSession, as an
// exit's circuit does, but with no stream-open request: the kind of circuit
// decides, so nothing on it reaches the exit connector. A session carries
// at most 4 concurrent streams and is closed after 30 s without one.
//
// Each stream carries one request and one reply, read top to bottom by one
// coroutine (serve): the request is read incrementally, never more bytes
// than the decoder asks for; then the client's FIN; then the
// DirectoryService answers, and the encoded reply and our FIN go out. Two
// answers are given on the request's header alone, before its body is read
// (so neither holds a stranger's announced 16 MiB): BUSY past 64 streams at
// once over every session, and whatever the service screens (REFUSED
// not_authority). A malformed request is answered REFUSED malformed as soon
// as the decoder refuses it. After an early answer the rest of the request
// is read to the FIN and thrown away, so the stream's id is released. Bytes
// after a complete request, a request not complete within 10 s (60 s for
// POST_VOTE), and a reply the client does not take within 30 s end the
// stream both ways (STOP_SENDING and a reset), counted. Nothing is logged
// about the link or the request.
//
// Owned by the node beside its Relay; every call and handler runs on the
// io_context's one thread (the cell shard). The service must outlive the
// server; stop() closes every session. Stream coroutines hold the server's
// gate and look at it after each wait, so one that outlives the server
// touches nothing of it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include "async/gate.hpp"
#include "async/timer.hpp"
#include "async/timer_service.hpp"
#include "core/clock.hpp"
#include "core/datagram_channel.hpp"
#include "core/error.hpp"
#include "daemon/circuit_session.hpp"
#include "daemon/circuit_stream.hpp"
#include "daemon/directory_service.hpp"
#include "document/directory_reply.hpp"
#include "document/directory_stream.hpp"
#include "mix/circuit.hpp"

namespace nyx::metrics {
class Counter;
class Registry;
}  // namespace nyx::metrics

namespace nyx::daemon {

struct DirectoryServerOptions {
  // max_concurrent_streams is set to kMaxDirectoryStreamsPerSession.
  stream::SessionConfig session{};
  std::uint16_t busy_retry_after_seconds = 10;
};

struct DirectoryServerCounters {
  std::uint64_t sessions = 0;        // directory circuits accepted
  std::uint64_t sessions_idle = 0;   // closed after 30 s without a stream
  std::uint64_t streams = 0;         // streams opened by clients
  std::uint64_t answered = 0;        // replies written in full, with our FIN
  std::uint64_t malformed = 0;       // answered REFUSED malformed
  std::uint64_t busy = 0;            // answered BUSY (the server's stream cap)
  std::uint64_t trailing_bytes = 0;  // reset: bytes after a complete request
  std::uint64_t timeouts = 0;        // reset: the request was not complete in time
  std::uint64_t reply_timeouts = 0;  // reset: the client did not take the reply within 30 s
  std::uint64_t bad_answers = 0;     // reset: the service's answer could not be encoded
  std::uint64_t bytes_served = 0;    // reply bytes the streams took, a cut-off reply's too
  // Replies written in full, by request type (1 to 6) and status (0 to 4):
  // nyx_directory_requests_served_total{type,status}. A malformed request
  // counts under the type it announced, GET_CONSENSUS when it named none.
  std::array<std::array<std::uint64_t, 5>, 6> served{};
  std::uint64_t served_count(document::DirectoryRequestType type,
                             document::DirectoryStatus status) const noexcept {
    return served[static_cast<std::size_t>(type) - 1][static_cast<std::size_t>(status)];
  }
};

class DirectoryServer {
 public:
  // `timers` must be the service whose clock() is `clock`.
  DirectoryServer(asio::io_context& io, const Clock& clock, async::TimerService& timers,
                  DirectoryService& service, DirectoryServerOptions options = {});
  ~DirectoryServer();
  DirectoryServer(const DirectoryServer&) = delete;
  DirectoryServer& operator=(const DirectoryServer&) = delete;

  // For Relay::set_directory_handler: a CREATE_DIR circuit that ends here,
  // over a link from `link_address` (none when the transport does not know
  // it); its DESTROY ends its session and every stream on it.
  void accept(std::unique_ptr<mix::Circuit> circuit, std::optional<asio::ip::address> link_address);
  // Any other channel to a client (tests use an in-memory one).
  CircuitSession& accept(std::unique_ptr<DatagramChannel> channel,
                         DirectoryRequestContext context = {});
  // Closes every session; streams still running end at their next wait.
  void stop();

  std::size_t session_count() const noexcept { return sessions_.size(); }
  // Streams being served now, over every session.
  std::size_t active_streams() const noexcept { return gate_.holders(); }
  const DirectoryServerCounters& counters() const noexcept { return counters_; }
  // Registers nyx_directory_requests_served_total{type,status} (proposal
  // 0002, section 11.3); from then on every reply written counts there too.
  void publish_metrics(metrics::Registry& registry);

 private:
  struct Served {
    std::unique_ptr<CircuitSession> session;
    mix::Circuit* circuit = nullptr;  // its channel, when that is a circuit
    DirectoryRequestContext context;
    std::unique_ptr<async::Timer> idle;  // 30 s without a stream closes it
  };
  // How reading a request ended.
  enum class ReadEnd : std::uint8_t {
    kEnough,     // the bytes asked for are in, they open a valid request, no FIN yet
    kFin,        // the client finished its direction
    kMalformed,  // the decoder refused the bytes so far
    kTrailing,   // a byte arrived after a complete request
  };

  // How receiving (part of) a request ended.
  enum class Received : std::uint8_t {
    kHeader,     // a valid header, and more to come
    kComplete,   // the request's bytes, up to the client's FIN
    kMalformed,  // the decoder refused them before the FIN
    kTrailing,   // bytes after a complete request
    kTimedOut,   // not complete within the limit of section 4.5
    kGone,       // the stream or its circuit ended
  };
  enum class Answered : std::uint8_t {
    kWritten,      // the reply and our FIN are out
    kUnencodable,  // the answer broke the codec's rules: the stream was reset
    kFailed,       // the stream or its circuit ended
    kTimedOut,     // the client did not take it within 30 s
  };

  // One stream, from its request to the end of its reply.
  asio::awaitable<void> serve(std::unique_ptr<CircuitStream> stream,
                              DirectoryRequestContext context);
  // The answer given on the request's header alone, before its body is
  // read: BUSY when `busy` (past the server's stream cap), else whatever the
  // service screens.
  std::optional<document::DirectoryReply> early_answer(document::DirectoryRequestType type,
                                                       bool busy,
                                                       const DirectoryRequestContext& context);
  // The answer to a request read up to the client's FIN: the service's, or
  // REFUSED malformed. Touches nothing of the server after its wait.
  asio::awaitable<DirectoryAnswer> answer_request(const std::vector<std::uint8_t>& received,
                                                  const DirectoryRequestContext& context);
  // Writes `answer` within section 4.5's 30 s and counts how that went; after
  // an answer given `before_fin`, reads the rest of the request by
  // `deadline`. False when the gate closed meanwhile: then nothing of the
  // server is touched.
  asio::awaitable<bool> send_answer(CircuitStream& stream, document::DirectoryRequestType type,
                                    const DirectoryAnswer& answer, bool before_fin, Nanos deadline,
                                    const async::Gate::Holder& in_flight);
  // Reads into `received` until it holds `stop_at` bytes or the FIN, by
  // `deadline` on the server's clock. Touches nothing of the server after
  // its wait: the caller looks at the gate first.
  asio::awaitable<Received> receive(CircuitStream& stream, std::vector<std::uint8_t>& received,
                                    std::size_t stop_at, Nanos deadline);
  // Reads into `received` until it holds `stop_at` bytes or the FIN, never
  // more than the decoder asks for.
  static asio::awaitable<Result<ReadEnd>> read_request(CircuitStream& stream,
                                                       std::vector<std::uint8_t>& received,
                                                       std::size_t stop_at);
  // After an early answer: the rest of the request, up to the FIN, read and
  // dropped by `deadline`; past it, the stream is abandoned.
  asio::awaitable<void> discard_rest(CircuitStream& stream, Nanos deadline);
  static asio::awaitable<void> discard_to_fin(CircuitStream& stream);
  // Writes `answer` to a request of `type` and finishes.
  static asio::awaitable<Answered> reply(CircuitStream& stream, document::DirectoryRequestType type,
                                         const DirectoryAnswer& answer);
  // Gives up on the stream both ways: what the client still sends is
  // dropped (STOP_SENDING), and our side is reset.
  static void abandon(CircuitStream& stream);
  void count_served(document::DirectoryRequestType type, const DirectoryAnswer& answer);
  void stream_ended(CircuitSession* session);
  void arm_idle(Served& served);
  void erase(CircuitSession& session);

  asio::io_context& io_;
  const Clock& clock_;
  async::TimerService& timers_;
  DirectoryService& service_;
  DirectoryServerOptions options_;
  async::Gate gate_;  // held by every stream coroutine, and by nothing else
  std::unordered_map<CircuitSession*, Served> sessions_;
  DirectoryServerCounters counters_;
  std::array<std::array<metrics::Counter*, 5>, 6> served_metrics_{};  // as counters_.served
};

}  // namespace nyx::daemon
