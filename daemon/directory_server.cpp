#include "daemon/directory_server.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "async/spawn.hpp"
#include "async/with_deadline.hpp"
#include "core/bytes.hpp"
#include "core/log.hpp"
#include "core/metrics/registry.hpp"
#include "document/directory_stream.hpp"

namespace nyx::daemon {
namespace {

using document::DirectoryRequestType;

// The most one read takes; the decoder may ask for up to a whole vote.
constexpr std::size_t kRequestReadChunk = 64 * 1024;

// The type a request announces, for answering and counting it: a header
// that names none (another version, a type outside 1..6, too short) is
// answered and counted as a GET_CONSENSUS, since REFUSED and BUSY read the
// same for every type.
DirectoryRequestType announced_type(Bytes received) {
  if (received.size() >= document::kDirectoryHeaderSize &&
      received[0] == document::kDirectoryStreamVersion && received[1] >= 1 && received[1] <= 6) {
    return static_cast<DirectoryRequestType>(received[1]);
  }
  return DirectoryRequestType::kGetConsensus;
}

// The labels of nyx_directory_requests_served_total, by type (1 to 6) and
// status (0 to 4).
constexpr std::array<const char*, 6> kTypeNames = {"get_consensus",  "post_descriptor",
                                                   "post_vote",      "get_vote",
                                                   "post_signature", "get_signatures"};
constexpr std::array<const char*, 5> kStatusNames = {"ok", "not_modified", "not_found", "refused",
                                                     "busy"};

// What the client still sends after an early answer is read into this and
// dropped.
constexpr std::size_t kDiscardChunk = 4096;

// REFUSED malformed, its message cut to what a str8 holds.
document::DirectoryReply malformed(std::string message) {
  if (message.size() > document::kMaxRefusalMessage) {
    message.resize(document::kMaxRefusalMessage);
  }
  return document::DirectoryReply(document::RefusedReply{
      .reason = document::RefusalReason::kMalformed, .message = std::move(message)});
}

}  // namespace

DirectoryServer::DirectoryServer(asio::io_context& io, const Clock& clock,
                                 async::TimerService& timers, DirectoryService& service,
                                 DirectoryServerOptions options)
    : io_(io),
      clock_(clock),
      timers_(timers),
      service_(service),
      options_(std::move(options)),
      gate_(io.get_executor()) {
  options_.session.max_concurrent_streams = document::kMaxDirectoryStreamsPerSession;
}

DirectoryServer::~DirectoryServer() { stop(); }

void DirectoryServer::accept(std::unique_ptr<mix::Circuit> circuit,
                             std::optional<asio::ip::address> link_address) {
  mix::Circuit* raw = circuit.get();
  DirectoryRequestContext context{.link_peer = raw->link_peer(),
                                  .link_address = std::move(link_address)};
  CircuitSession& session =
      accept(std::unique_ptr<DatagramChannel>(std::move(circuit)), std::move(context));
  // erase() clears this before the session (and the circuit in it) goes.
  sessions_.at(&session).circuit = raw;
  raw->set_state_handler([&session](mix::Circuit::State state) {
    if (state == mix::Circuit::State::kClosed) {
      session.channel_closed();
    }
  });
}

CircuitSession& DirectoryServer::accept(std::unique_ptr<DatagramChannel> channel,
                                        DirectoryRequestContext context) {
  auto session =
      std::make_unique<CircuitSession>(io_.get_executor(), clock_, timers_, std::move(channel),
                                       stream::Role::kResponder, options_.session);
  CircuitSession& ref = *session;
  ref.set_incoming_handler([this, &ref](stream::StreamId id) {
    ++counters_.streams;
    // Attached now, so nothing about the stream is missed before the
    // coroutine first runs.
    async::spawn(io_.get_executor(),
                 serve(std::make_unique<CircuitStream>(ref, id), sessions_.at(&ref).context),
                 "directory stream");
  });
  ref.set_closed_handler([this, &ref] { erase(ref); });
  ++counters_.sessions;
  Served& served = sessions_[&ref];
  served.session = std::move(session);
  served.context = std::move(context);
  served.idle = std::make_unique<async::Timer>(io_.get_executor(), timers_);
  arm_idle(served);
  ref.wake();
  return ref;
}

// --- One stream ----------------------------------------------------------------

asio::awaitable<void> DirectoryServer::serve(std::unique_ptr<CircuitStream> opened,
                                             DirectoryRequestContext context) {
  CircuitStream& stream = *opened;  // destroyed with this frame: reset if we gave up on it
  const auto in_flight = gate_.enter();
  if (!in_flight) {
    co_return;
  }
  // Only stream coroutines hold the gate: its holders are the streams at once.
  const bool busy = gate_.holders() > document::kMaxDirectoryStreamsPerServer;
  // Section 4.5's timeouts run from the stream's start: the header under the
  // 10 s of every request, the whole request under its type's limit.
  const Nanos start = clock_.now();
  std::vector<std::uint8_t> received;
  Received outcome = co_await receive(stream, received, document::kDirectoryHeaderSize,
                                      start + Nanos(document::kRequestTimeout));
  if (in_flight->gate_closed()) {
    co_return;
  }
  const DirectoryRequestType type = announced_type(received);
  const Nanos deadline = start + Nanos(document::request_timeout(type));
  std::optional<DirectoryAnswer> answer;
  bool before_fin = false;  // answered before the client's FIN was read
  if (outcome == Received::kHeader) {
    if (auto early = early_answer(type, busy, context)) {
      answer = std::move(*early);
      before_fin = true;
    } else {
      outcome =
          co_await receive(stream, received, std::numeric_limits<std::size_t>::max(), deadline);
      if (in_flight->gate_closed()) {
        co_return;
      }
    }
  }
  if (!answer) {
    switch (outcome) {
      case Received::kHeader:  // only the header read stops there
      case Received::kGone:
        break;
      case Received::kTimedOut:
        ++counters_.timeouts;
        abandon(stream);
        break;
      case Received::kTrailing:
        // Section 4.2: one request per stream; whatever follows it is an error.
        ++counters_.trailing_bytes;
        abandon(stream);
        break;
      case Received::kMalformed:
        ++counters_.malformed;
        answer = malformed("malformed");
        before_fin = true;
        break;
      case Received::kComplete: {
        DirectoryAnswer answered = co_await answer_request(received, context);
        if (in_flight->gate_closed()) {
          co_return;
        }
        answer = std::move(answered);
        break;
      }
    }
  }
  if (answer) {
    if (!co_await send_answer(stream, type, *answer, before_fin, deadline, *in_flight)) {
      co_return;
    }
  }
  // Null once the circuit ended: its session may be gone, or another in its place.
  CircuitSession* const session = stream.session();
  opened.reset();  // detaches from the session before it is counted idle
  stream_ended(session);
}

std::optional<document::DirectoryReply> DirectoryServer::early_answer(
    DirectoryRequestType type, bool busy, const DirectoryRequestContext& context) {
  if (busy) {
    ++counters_.busy;
    return document::DirectoryReply(
        document::BusyReply{.retry_after_seconds = options_.busy_retry_after_seconds});
  }
  return service_.screen(type, context);
}

asio::awaitable<DirectoryAnswer> DirectoryServer::answer_request(
    const std::vector<std::uint8_t>& received, const DirectoryRequestContext& context) {
  auto request = document::decode_directory_request_at_fin(received);
  if (!request) {
    ++counters_.malformed;
    co_return malformed("malformed: " + request.error().message);
  }
  co_return co_await service_.answer(*request, context);
}

asio::awaitable<bool> DirectoryServer::send_answer(CircuitStream& stream, DirectoryRequestType type,
                                                   const DirectoryAnswer& answer, bool before_fin,
                                                   Nanos deadline,
                                                   const async::Gate::Holder& in_flight) {
  // A client that stops reading would hold one of the server's 64 streams
  // for good; it gives up itself after the same 30 s (section 4.5).
  auto written = co_await async::with_deadline(reply(stream, type, answer),
                                               Nanos(document::kReplyTimeout), timers_);
  if (in_flight.gate_closed()) {
    co_return false;
  }
  counters_.bytes_served += stream.traffic().bytes_up;
  const Answered answered = written ? *written : Answered::kTimedOut;
  if (answered == Answered::kTimedOut) {
    ++counters_.reply_timeouts;
    abandon(stream);
  } else if (answered == Answered::kWritten) {
    ++counters_.answered;
    count_served(type, answer);
    if (before_fin) {
      co_await discard_rest(stream, deadline);
      if (in_flight.gate_closed()) {
        co_return false;
      }
    }
  } else if (answered == Answered::kUnencodable) {
    ++counters_.bad_answers;
  }
  co_return true;
}

asio::awaitable<DirectoryServer::Received> DirectoryServer::receive(
    CircuitStream& stream, std::vector<std::uint8_t>& received, std::size_t stop_at,
    Nanos deadline) {
  const Nanos left = std::max(Nanos(0), deadline - clock_.now());
  auto read = co_await async::with_deadline(read_request(stream, received, stop_at), left, timers_);
  if (!read) {
    co_return Received::kTimedOut;
  }
  const Result<ReadEnd>& end = *read;
  if (!end) {
    co_return Received::kGone;  // the stream or its circuit is gone
  }
  switch (*end) {
    case ReadEnd::kEnough:
      co_return Received::kHeader;
    case ReadEnd::kFin:
      co_return Received::kComplete;
    case ReadEnd::kMalformed:
      co_return Received::kMalformed;
    case ReadEnd::kTrailing:
      co_return Received::kTrailing;
  }
  co_return Received::kGone;
}

asio::awaitable<Result<DirectoryServer::ReadEnd>> DirectoryServer::read_request(
    CircuitStream& stream, std::vector<std::uint8_t>& received, std::size_t stop_at) {
  bool complete = false;
  for (;;) {
    // After a complete request one byte tells a FIN from trailing bytes.
    std::size_t want = 1;
    if (!complete) {
      auto progress = document::decode_directory_request(received);
      if (!progress) {
        co_return ReadEnd::kMalformed;
      }
      if (const auto* need = std::get_if<document::NeedMore>(&*progress)) {
        want = std::max<std::size_t>(need->bytes, 1);
      } else {
        // Nothing past the request is read, so it ends where `received` does.
        complete = true;
      }
    }
    if (received.size() >= stop_at) {
      co_return ReadEnd::kEnough;
    }
    want = std::min({want, kRequestReadChunk, stop_at - received.size()});
    const std::size_t before = received.size();
    received.resize(before + want);
    auto read = co_await stream.read_some(MutableBytes(received).subspan(before));
    received.resize(before + (read ? read->bytes : 0));
    if (!read) {
      co_return std::unexpected(std::move(read.error()));
    }
    if (complete && read->bytes > 0) {
      co_return ReadEnd::kTrailing;
    }
    if (read->fin) {
      co_return ReadEnd::kFin;
    }
  }
}

asio::awaitable<void> DirectoryServer::discard_rest(CircuitStream& stream, Nanos deadline) {
  const Nanos left = std::max(Nanos(0), deadline - clock_.now());
  auto drained = co_await async::with_deadline(discard_to_fin(stream), left, timers_);
  if (!drained) {
    abandon(stream);
  }
}

asio::awaitable<void> DirectoryServer::discard_to_fin(CircuitStream& stream) {
  std::array<std::uint8_t, kDiscardChunk> dropped{};
  for (;;) {
    auto read = co_await stream.read_some(dropped);
    if (!read || read->fin) {
      co_return;
    }
  }
}

void DirectoryServer::abandon(CircuitStream& stream) {
  if (CircuitSession* session = stream.session()) {
    // Drops what is buffered now and asks the client to reset its side, so
    // the stream's id is released without its help.
    (void)session->session().stop_sending(stream.id(), 0);
  }
  stream.reset();
}

void DirectoryServer::count_served(DirectoryRequestType type, const DirectoryAnswer& answer) {
  const auto* reply = std::get_if<document::DirectoryReply>(&answer);
  const document::DirectoryStatus status =
      reply != nullptr ? document::reply_status(*reply) : document::DirectoryStatus::kOk;
  const auto t = static_cast<std::size_t>(type) - 1;
  const auto st = static_cast<std::size_t>(status);
  ++counters_.served[t][st];
  if (metrics::Counter* counter = served_metrics_[t][st]; counter != nullptr) {
    counter->inc();
  }
}

void DirectoryServer::publish_metrics(metrics::Registry& registry) {
  for (std::size_t t = 0; t < kTypeNames.size(); ++t) {
    for (std::size_t st = 0; st < kStatusNames.size(); ++st) {
      served_metrics_[t][st] = &registry.counter(
          "nyx_directory_requests_served_total", "Directory requests answered, by type and status",
          {{"type", kTypeNames[t]}, {"status", kStatusNames[st]}});
    }
  }
}

asio::awaitable<DirectoryServer::Answered> DirectoryServer::reply(CircuitStream& stream,
                                                                  DirectoryRequestType type,
                                                                  const DirectoryAnswer& answer) {
  if (const auto* held = std::get_if<SharedDocument>(&answer)) {
    // The consensus as held: its header written here, its bytes from the
    // shared buffer, so serving it copies nothing.
    const std::size_t size = *held ? (*held)->size() : 0;
    if (type != DirectoryRequestType::kGetConsensus || size < document::kMinConsensus ||
        size > document::kMaxConsensus) {
      stream.reset();
      co_return Answered::kUnencodable;
    }
    std::array<std::uint8_t, document::kDirectoryHeaderSize + 4> header{
        document::kDirectoryStreamVersion,
        static_cast<std::uint8_t>(document::DirectoryStatus::kOk)};
    store_be32(header.data() + document::kDirectoryHeaderSize, static_cast<std::uint32_t>(size));
    const SharedDocument keep = *held;  // alive across the waits below
    if (!co_await stream.write_all(header)) {
      co_return Answered::kFailed;
    }
    if (!co_await stream.write_all(*keep)) {
      co_return Answered::kFailed;
    }
    co_return stream.finish() ? Answered::kWritten : Answered::kFailed;
  }
  auto bytes = document::encode_directory_reply(type, std::get<document::DirectoryReply>(answer));
  if (!bytes) {
    log::warn("directory: an answer that cannot be encoded: {}", bytes.error().to_string());
    stream.reset();
    co_return Answered::kUnencodable;
  }
  if (!co_await stream.write_all(*bytes)) {
    co_return Answered::kFailed;
  }
  co_return stream.finish() ? Answered::kWritten : Answered::kFailed;
}

// --- Sessions ------------------------------------------------------------------

// A stream of `session` ended (null: its circuit ended first): with no
// stream left, the session's 30 s start.
void DirectoryServer::stream_ended(CircuitSession* session) {
  if (session == nullptr) {
    return;
  }
  auto it = sessions_.find(session);
  if (it == sessions_.end()) {
    return;
  }
  std::size_t streams = 0;
  it->second.session->for_each_stream(
      [&streams](stream::StreamId, const StreamHandler&) { ++streams; });
  if (streams == 0) {
    arm_idle(it->second);
  }
}

// Re-arming ends the pending wait (operation_aborted), so only the last
// arming closes. When it fires with a stream running, the stream's end arms
// it again.
void DirectoryServer::arm_idle(Served& served) {
  served.idle->expires_after(Nanos(document::kDirectorySessionIdle));
  CircuitSession* const session = served.session.get();
  served.idle->async_wait([this, session](const asio::error_code& ec) {
    if (ec) {
      return;  // re-armed, or the session (and its timer) is gone
    }
    auto it = sessions_.find(session);
    if (it == sessions_.end()) {
      return;
    }
    bool streams = false;
    it->second.session->for_each_stream(
        [&streams](stream::StreamId, const StreamHandler&) { streams = true; });
    if (!streams) {
      ++counters_.sessions_idle;
      session->close();  // its closed handler erases it
    }
  });
}

void DirectoryServer::erase(CircuitSession& session) {
  auto node = sessions_.extract(&session);
  if (node && node.mapped().circuit != nullptr) {
    node.mapped().circuit->set_state_handler(nullptr);
  }
  // node goes out of scope here: the timer, the session, then its circuit.
}

void DirectoryServer::stop() {
  gate_.close();
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [raw, served] : sessions) {
    if (served.circuit != nullptr) {
      served.circuit->set_state_handler(nullptr);
    }
    served.session->set_closed_handler(nullptr);
    served.session->close();
  }
}

}  // namespace nyx::daemon
