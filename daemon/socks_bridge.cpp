#include "daemon/socks_bridge.hpp"

#include <utility>
#include <vector>

#include "async/with_deadline.hpp"
#include "daemon/circuit_stream.hpp"
#include "daemon/stream_open.hpp"
#include "daemon/stream_pump.hpp"

namespace nyx::daemon {
namespace {

// An opened stream: relay() pumps bytes until both directions are done. The
// stream's circuit counts it until this is destroyed.
class BridgeStream final : public Socks5Stream {
 public:
  BridgeStream(CircuitSource& source, std::unique_ptr<CircuitStream> stream)
      : source_(source), stream_(std::move(stream)) {}

  ~BridgeStream() override {
    // A closed session took its circuit's count with it (and once it is
    // destroyed, a stale release could land on a new session at its
    // address).
    if (CircuitSession* session = stream_->session()) {
      stream_.reset();  // resets a stream that never relayed
      source_.release(session);
    }
  }

  CircuitStream& circuit_stream() noexcept { return *stream_; }

  asio::awaitable<void> relay(asio::ip::tcp::socket client,
                              std::vector<std::uint8_t> early_data) override {
    // (No co_await inside && or ||: GCC 12 miscompiles it.)
    if (!early_data.empty()) {
      if (auto sent = co_await stream_->write_all(early_data); !sent) {
        co_return;
      }
    }
    (void)co_await pump(*stream_, client);
  }

 private:
  CircuitSource& source_;
  std::unique_ptr<CircuitStream> stream_;
};

// Sends the open request and reads the exit's one status byte (what
// follows it is the destination's data).
asio::awaitable<Result<StreamOpenStatus>> request_open(CircuitStream& stream,
                                                       std::vector<std::uint8_t> request) {
  if (auto sent = co_await stream.write_all(request); !sent) {
    co_return std::unexpected(sent.error());
  }
  std::uint8_t byte = 0;
  auto read = co_await stream.read_some(MutableBytes(&byte, 1));
  if (!read) {
    co_return std::unexpected(read.error());
  }
  if (read->bytes == 0) {
    co_return StreamOpenStatus::kGeneralFailure;  // FIN before any answer
  }
  auto status = parse_stream_open_status(byte);
  co_return status ? *status : StreamOpenStatus::kGeneralFailure;
}

}  // namespace

SocksBridge::SocksBridge(CircuitSource& source, std::chrono::milliseconds open_timeout)
    : source_(source), open_timeout_(open_timeout) {}

asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> SocksBridge::connect(
    const IsolationKey& isolation, const Socks5Destination& destination) {
  auto request = encode_stream_open(destination);
  if (!request) {
    co_return std::unexpected(request.error());
  }
  // A circuit that dies under the open (a relay gone: its session gives up
  // after a few probe timeouts) costs one more try, on another circuit.
  auto opened = co_await open_stream(isolation, destination, *request);
  if (!opened && opened.error().category == ErrorCategory::kClosed) {
    opened = co_await open_stream(isolation, destination, *request);
  }
  co_return opened;
}

asio::awaitable<Result<std::unique_ptr<Socks5Stream>>> SocksBridge::open_stream(
    const IsolationKey& isolation, const Socks5Destination& destination,
    std::vector<std::uint8_t> request) {
  auto acquired = co_await source_.acquire(isolation, destination);
  if (!acquired) {
    co_return std::unexpected(acquired.error());
  }
  auto id = (*acquired)->open_stream();
  if (!id) {
    source_.release(*acquired);
    co_return std::unexpected(id.error());
  }
  // From here the bridge stream releases the circuit's count, whatever
  // happens to the open.
  auto stream =
      std::make_unique<BridgeStream>(source_, std::make_unique<CircuitStream>(**acquired, *id));
  CircuitStream& circuit_stream = stream->circuit_stream();
  auto status = co_await async::with_deadline(request_open(circuit_stream, std::move(request)),
                                              open_timeout_);
  if (circuit_stream.circuit_closed()) {
    co_return make_error(ErrorCategory::kClosed, "the circuit closed while opening the stream");
  }
  if (!status) {
    co_return std::unexpected(stream_open_error(StreamOpenStatus::kTimeout));
  }
  if (!*status) {
    co_return std::unexpected(stream_open_error(StreamOpenStatus::kGeneralFailure));
  }
  if (**status != StreamOpenStatus::kSuccess) {
    co_return std::unexpected(stream_open_error(**status));
  }
  co_return std::move(stream);
}

}  // namespace nyx::daemon
