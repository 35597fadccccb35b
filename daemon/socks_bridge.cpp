#include "daemon/socks_bridge.hpp"

#include <utility>
#include <vector>

#include "daemon/circuit_stream.hpp"
#include "daemon/stream_open.hpp"
#include "daemon/stream_pump.hpp"

namespace nyx::daemon {
namespace {

// Bytes a client may send before the exit's status: enough for a request or
// a TLS ClientHello; a larger upload waits for the status after these.
// They are kept until the status, for a second circuit.
constexpr std::size_t kUnansweredLimit = 64 << 10;

// What a stream is opened with, kept for a second try.
struct OpenRequest {
  IsolationKey isolation;
  Socks5Destination destination;
  std::vector<std::uint8_t> bytes;  // the encoded stream open request
};

// Gives the stream's count back to its circuit (a closed session took its
// count with it, and once destroyed a stale release could land on a new
// session at its address). Destroying the stream resets it unless finished.
void release_stream(CircuitSource& source, std::unique_ptr<CircuitStream> stream) {
  if (stream == nullptr) {
    return;
  }
  CircuitSession* session = stream->session();
  stream.reset();
  if (session != nullptr) {
    source.release(session);
  }
}

// One try: a circuit, a stream on it, the open request written. The stream
// is counted on its circuit until release_stream().
asio::awaitable<Result<std::unique_ptr<CircuitStream>>> open_request(CircuitSource& source,
                                                                     const OpenRequest& request) {
  auto acquired = co_await source.acquire(request.isolation, request.destination);
  if (!acquired) {
    co_return std::unexpected(acquired.error());
  }
  auto id = (*acquired)->open_stream();
  if (!id) {
    source.release(*acquired);
    co_return std::unexpected(id.error());
  }
  auto stream = std::make_unique<CircuitStream>(**acquired, *id);
  auto sent = co_await stream->write_all(request.bytes);
  if (!sent) {
    // A closed circuit says kClosed here, which earns a second try.
    release_stream(source, std::move(stream));
    co_return std::unexpected(sent.error());
  }
  co_return std::move(stream);
}

// The SOCKS reply for a stream that did not open.
Socks5Reply reply_for(StreamOpenStatus status) {
  return socks5_reply_for(stream_open_error(status));
}

asio::awaitable<bool> go_on_if_succeeded(asio::ip::tcp::socket&, Socks5Reply answer) {
  co_return answer == Socks5Reply::kSucceeded;
}

// A stream whose open request is on its way: relay_unanswered() carries the
// client's bytes up at once and turns the exit's status into the answer.
// The stream's circuit counts it until this is destroyed.
class BridgeStream final : public Socks5Stream {
 public:
  BridgeStream(CircuitSource& source, std::unique_ptr<CircuitStream> stream, OpenRequest request,
               std::chrono::milliseconds status_timeout)
      : source_(source),
        stream_(std::move(stream)),
        request_(std::move(request)),
        status_timeout_(status_timeout) {}

  ~BridgeStream() override { release_stream(source_, std::move(stream_)); }

  bool answered() const override { return false; }

  // Without an answer handler: a failure just closes the client.
  asio::awaitable<void> relay(asio::ip::tcp::socket client,
                              std::vector<std::uint8_t> early_data) override {
    co_await relay_unanswered(std::move(client), std::move(early_data),
                              Socks5AnswerHandler(&go_on_if_succeeded));
  }

  asio::awaitable<void> relay_unanswered(asio::ip::tcp::socket client,
                                         std::vector<std::uint8_t> early_data,
                                         Socks5AnswerHandler on_answer) override {
    Unanswered state;
    state.bytes = std::move(early_data);
    state.limit = kUnansweredLimit;
    state.status_timeout = status_timeout_;
    // Both outlive every pump below (they are this coroutine's).
    SuccessHandler on_success = [&on_answer, &client] {
      return on_answer(client, Socks5Reply::kSucceeded);
    };
    (void)co_await pump_unanswered(*stream_, client, state, on_success);
    if (!state.status && stream_->circuit_closed()) {
      // The circuit ended before the exit answered (a relay gone): one more
      // try on another circuit, with every byte the client sent so far.
      release_stream(source_, std::move(stream_));
      auto next = co_await open_request(source_, request_);
      if (!next) {
        (void)co_await on_answer(client, socks5_reply_for(next.error()));
        co_return;
      }
      stream_ = std::move(*next);
      (void)co_await pump_unanswered(*stream_, client, state, on_success);
    }
    if (state.status == StreamOpenStatus::kSuccess) {
      co_return;  // answered, relayed, over
    }
    (void)co_await on_answer(client,
                             reply_for(state.status.value_or(StreamOpenStatus::kGeneralFailure)));
  }

 private:
  CircuitSource& source_;
  std::unique_ptr<CircuitStream> stream_;  // null only between two tries
  OpenRequest request_;
  std::chrono::milliseconds status_timeout_;
};

}  // namespace

SocksBridge::SocksBridge(CircuitSource& source, std::chrono::milliseconds open_timeout)
    : source_(source), open_timeout_(open_timeout) {}

asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> SocksBridge::connect(
    const IsolationKey& isolation, const Socks5Destination& destination) {
  auto encoded = encode_stream_open(destination);
  if (!encoded) {
    co_return std::unexpected(encoded.error());
  }
  OpenRequest request;
  request.isolation = isolation;
  request.destination = destination;
  request.bytes = std::move(*encoded);
  // A circuit that dies under the request costs one more try, on another
  // circuit (relay_unanswered() does the same until the status came).
  auto opened = co_await open_request(source_, request);
  if (!opened && opened.error().category == ErrorCategory::kClosed) {
    opened = co_await open_request(source_, request);
  }
  if (!opened) {
    co_return std::unexpected(opened.error());
  }
  co_return std::make_unique<BridgeStream>(source_, std::move(*opened), std::move(request),
                                           open_timeout_);
}

}  // namespace nyx::daemon
