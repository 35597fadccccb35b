#include "cli/bench_client.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <asio.hpp>
#include <fmt/format.h>

#include "async/spawn.hpp"
#include "async/use_result.hpp"
#include "cli/bench_schedule.hpp"
#include "cli/bench_socks.hpp"
#include "core/metrics/histogram.hpp"

namespace nyx::cli {
namespace {

using asio::ip::tcp;
using async::use_result;
using std::chrono::steady_clock;
// Big enough that a bulk download costs few reads, small enough per stream.
constexpr std::size_t kReadBuffer = 64 * 1024;
// A closed-loop stream whose connection fails waits this long before
// retrying, so a refusing proxy is counted, not spun on.
constexpr auto kErrorBackoff = std::chrono::milliseconds(10);

steady_clock::time_point to_time_point(Nanos t) {
  return steady_clock::time_point(std::chrono::duration_cast<steady_clock::duration>(t));
}

// What all load threads share; the histograms are thread-safe.
struct Run {
  Run(const BenchOptions& o, const Clock& c, Nanos s)
      : options(o), clock(c), start(s), end(s + o.duration) {}
  const BenchOptions& options;
  const Clock& clock;
  Nanos start;
  Nanos end;
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};
  std::array<std::atomic<std::uint64_t>, kBenchErrorKinds> errors_by_kind{};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> claimed{0};
  std::atomic<std::size_t> streams_left{0};
  std::atomic<std::int64_t> finished_ns{0};
  // Worker 0's progress timer, cancelled (on worker 0) when the last stream ends.
  asio::io_context* progress_io = nullptr;
  asio::steady_timer* progress_timer = nullptr;
  metrics::Histogram latency_ns;
  metrics::Histogram ttfb_ns;

  // False once max_requests have been handed out.
  bool claim() {
    return options.max_requests == 0 ||
           claimed.fetch_add(1, std::memory_order_relaxed) < options.max_requests;
  }
};

// One load thread: an io_context, its streams, its share of the rate.
struct Worker {
  explicit Worker(Run& r) : run(r) {}
  Run& run;
  asio::io_context io{1};
  std::optional<OpenLoopSchedule> schedule;
  std::vector<tcp::endpoint> first_hop;  // the proxy, or the target itself
};

// One stream's socket and the watchdog's deadline; shared by the stream's
// coroutine and its watchdog, both on the worker's thread.
struct Stream {
  explicit Stream(asio::io_context& io) : socket(io), watchdog(io), pause(io) {}
  tcp::socket socket;
  asio::steady_timer watchdog;
  asio::steady_timer pause;
  Nanos deadline = Nanos::max();
  bool timed_out = false;  // the watchdog closed the socket
  bool done = false;
};

asio::awaitable<void> watch(std::shared_ptr<Stream> stream, Run& run) {
  while (!stream->done) {
    const Nanos now = run.clock.now();
    if (now >= stream->deadline) {
      // Fails whatever the stream is waiting on, so it counts an error.
      asio::error_code ignored;
      stream->socket.close(ignored);
      stream->deadline = Nanos::max();
      stream->timed_out = true;
    }
    const Nanos wake = std::min(stream->deadline, now + Nanos{run.options.timeout});
    stream->watchdog.expires_at(to_time_point(wake));
    co_await stream->watchdog.async_wait(use_result);
  }
}

// The proxy's choice of method: "no authentication" or an error.
asio::awaitable<BenchError> read_method_choice(tcp::socket& socket) {
  std::array<std::uint8_t, 2> choice{};
  auto [choice_ec, choice_n] = co_await asio::async_read(socket, asio::buffer(choice), use_result);
  if (choice_ec || !check_socks_method_choice(choice)) {
    co_return BenchError::kSocks;
  }
  co_return BenchError::kNone;
}

// The proxy's reply to CONNECT: kNone for "succeeded".
asio::awaitable<BenchError> read_connect_reply(tcp::socket& socket) {
  std::array<std::uint8_t, 4 + 1 + 255 + 2> reply{};
  auto [prefix_ec, prefix_n] = co_await asio::async_read(
      socket, asio::buffer(reply.data(), kSocksMessagePrefix), use_result);
  if (prefix_ec) {
    co_return BenchError::kSocks;
  }
  auto size = socks_message_size(Bytes(reply.data(), kSocksMessagePrefix));
  if (!size) {
    co_return BenchError::kSocks;
  }
  auto [rest_ec, rest_n] = co_await asio::async_read(
      socket, asio::buffer(reply.data() + kSocksMessagePrefix, *size - kSocksMessagePrefix),
      use_result);
  if (rest_ec) {
    co_return BenchError::kSocks;
  }
  auto message = parse_socks_message(Bytes(reply.data(), *size));
  co_return message && message->code == kSocksSucceeded ? BenchError::kNone : BenchError::kSocks;
}

// Optimistic (Tor proposal 181): greeting, CONNECT and `request` in one
// write, then both replies; the response follows them on the socket.
asio::awaitable<BenchError> open_socks_optimistic(tcp::socket& socket, const HostPort& target,
                                                  const std::vector<std::uint8_t>& request) {
  auto opening = encode_socks_optimistic_open(target.host, target.port, request);
  if (!opening) {
    co_return BenchError::kSocks;
  }
  auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(*opening), use_result);
  if (write_ec) {
    co_return BenchError::kSocks;
  }
  const BenchError chosen = co_await read_method_choice(socket);
  if (chosen != BenchError::kNone) {
    co_return chosen;
  }
  co_return co_await read_connect_reply(socket);
}

// Connects (through the proxy, when there is one). With socks_optimistic,
// `request` goes with the SOCKS messages and `request_sent` says so.
asio::awaitable<BenchError> open_stream(Stream& stream, Worker& worker,
                                        const std::vector<std::uint8_t>& request,
                                        bool& request_sent) {
  const BenchOptions& options = worker.run.options;
  auto [connect_ec, endpoint] =
      co_await asio::async_connect(stream.socket, worker.first_hop, use_result);
  if (connect_ec) {
    co_return BenchError::kConnect;
  }
  asio::error_code ignored;
  stream.socket.set_option(tcp::no_delay(true), ignored);
  if (!options.socks) {
    co_return BenchError::kNone;
  }
  if (options.socks_optimistic) {
    request_sent = true;
    co_return co_await open_socks_optimistic(stream.socket, options.target, request);
  }
  const auto greeting = encode_socks_greeting();
  auto [greet_ec, greet_n] =
      co_await asio::async_write(stream.socket, asio::buffer(greeting), use_result);
  if (greet_ec) {
    co_return BenchError::kSocks;
  }
  const BenchError chosen = co_await read_method_choice(stream.socket);
  if (chosen != BenchError::kNone) {
    co_return chosen;
  }
  auto connect = encode_socks_connect(options.target.host, options.target.port);
  if (!connect) {
    co_return BenchError::kSocks;
  }
  auto [request_ec, request_n] =
      co_await asio::async_write(stream.socket, asio::buffer(*connect), use_result);
  if (request_ec) {
    co_return BenchError::kSocks;
  }
  co_return co_await read_connect_reply(stream.socket);
}

// Sends one request (unless it went with the SOCKS messages already) and
// reads its whole response; records TTFB from `from`.
asio::awaitable<BenchError> exchange(Stream& stream, Run& run,
                                     const std::vector<std::uint8_t>& request,
                                     std::vector<std::uint8_t>& buffer, Nanos from,
                                     bool request_sent) {
  if (!request_sent) {
    auto [write_ec, written] =
        co_await asio::async_write(stream.socket, asio::buffer(request), use_result);
    if (write_ec) {
      co_return BenchError::kReset;
    }
  }
  std::uint64_t left = run.options.response_size;
  bool first = true;
  while (left > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
    auto [read_ec, n] =
        co_await stream.socket.async_read_some(asio::buffer(buffer.data(), want), use_result);
    if (read_ec) {
      co_return BenchError::kReset;
    }
    if (first) {
      run.ttfb_ns.record(static_cast<std::uint64_t>((run.clock.now() - from).count()));
      first = false;
    }
    left -= n;
    run.bytes.fetch_add(n, std::memory_order_relaxed);
  }
  co_return BenchError::kNone;
}

// The request every exchange sends: header, then a zero body.
std::vector<std::uint8_t> make_request(const BenchOptions& options) {
  std::vector<std::uint8_t> request(
      std::max<std::size_t>(options.request_size, kRequestHeaderSize));
  const auto header = encode_request_header(
      RequestHeader{options.mode, static_cast<std::uint32_t>(request.size() - kRequestHeaderSize),
                    options.response_size});
  std::copy(header.begin(), header.end(), request.begin());
  return request;
}

// A stream is done; the last one stops the progress timer (on worker 0).
void stream_finished(Run& run) {
  if (run.streams_left.fetch_sub(1, std::memory_order_acq_rel) != 1) {
    return;
  }
  run.finished_ns.store(run.clock.now().count(), std::memory_order_relaxed);
  if (run.progress_io != nullptr) {
    asio::post(*run.progress_io, [&run] {
      if (run.progress_timer != nullptr) {
        run.progress_timer->cancel();
      }
    });
  }
}

// Closes a stream and tells the run, when run_stream leaves by any way.
class StreamEnd {
 public:
  StreamEnd(Stream& stream, Run& run) : stream_(stream), run_(run) {}
  StreamEnd(const StreamEnd&) = delete;
  StreamEnd& operator=(const StreamEnd&) = delete;
  ~StreamEnd() {
    stream_.done = true;
    stream_.watchdog.cancel();
    asio::error_code ignored;
    stream_.socket.close(ignored);
    stream_finished(run_);
  }

 private:
  Stream& stream_;
  Run& run_;
};

asio::awaitable<void> run_stream(Worker& worker) {
  Run& run = worker.run;
  const BenchOptions& options = run.options;
  auto stream = std::make_shared<Stream>(worker.io);
  async::spawn(worker.io.get_executor(), watch(stream, run), "bench stream watchdog");
  // However the stream ends, a throw included (spawn logs it), the run must
  // learn it ended or the progress timer would wait for it forever.
  const StreamEnd end{*stream, run};

  const std::vector<std::uint8_t> request = make_request(options);
  std::vector<std::uint8_t> buffer(kReadBuffer);

  bool held = false;
  while (!held) {
    Nanos from;
    if (worker.schedule) {
      auto slot = worker.schedule->take(run.clock);
      if (!slot) {
        break;
      }
      if (slot->wait > Nanos{0}) {
        stream->pause.expires_after(slot->wait);
        co_await stream->pause.async_wait(use_result);
      }
      from = slot->due;
    } else {
      from = run.clock.now();
      if (from >= run.end) {
        break;
      }
    }
    if (!run.claim()) {
      break;
    }
    stream->deadline = run.clock.now() + Nanos{options.timeout};
    BenchError error = BenchError::kNone;
    bool request_sent = false;
    if (!stream->socket.is_open()) {
      error = co_await open_stream(*stream, worker, request, request_sent);
    }
    if (error == BenchError::kNone) {
      error = co_await exchange(*stream, run, request, buffer, from, request_sent);
    }
    if (error != BenchError::kNone && stream->timed_out) {
      error = BenchError::kTimeout;
    }
    stream->timed_out = false;
    const bool ok = error == BenchError::kNone;
    stream->deadline = Nanos::max();
    if (ok) {
      run.latency_ns.record(static_cast<std::uint64_t>((run.clock.now() - from).count()));
      run.requests.fetch_add(1, std::memory_order_relaxed);
      held = options.mode == BenchMode::kIdle;
    } else {
      run.errors.fetch_add(1, std::memory_order_relaxed);
      run.errors_by_kind[static_cast<std::size_t>(error) - 1].fetch_add(1,
                                                                        std::memory_order_relaxed);
    }
    if (!ok || options.connection_per_request) {
      asio::error_code ignored;
      stream->socket.close(ignored);
    }
    if (!ok && !worker.schedule) {
      stream->pause.expires_after(kErrorBackoff);
      co_await stream->pause.async_wait(use_result);
    }
  }
  if (held) {
    // An idle stream stays open, quiet, until the run ends.
    stream->pause.expires_at(to_time_point(run.end));
    co_await stream->pause.async_wait(use_result);
  }
}

asio::awaitable<void> report_progress(Worker& worker, std::FILE* out) {
  Run& run = worker.run;
  asio::steady_timer timer(worker.io);
  run.progress_timer = &timer;
  std::uint64_t last = 0;
  Nanos next = run.start;
  while (run.streams_left.load(std::memory_order_acquire) > 0) {
    next += std::chrono::seconds(1);
    timer.expires_at(to_time_point(next));
    auto [ec] = co_await timer.async_wait(use_result);
    if (ec) {
      break;
    }
    const std::uint64_t now_requests = run.requests.load(std::memory_order_relaxed);
    const auto line = format_progress(
        static_cast<double>((next - run.start).count()) / 1e9,
        static_cast<double>(now_requests - last), run.errors.load(std::memory_order_relaxed),
        static_cast<double>(run.latency_ns.snapshot().percentile(0.5)) / 1e6);
    std::fprintf(out, "%s\n", line.c_str());
    std::fflush(out);
    last = now_requests;
  }
  run.progress_timer = nullptr;
}

}  // namespace

Result<BenchTotals> run_bench(const BenchOptions& options, std::FILE* progress) {
  if (options.concurrency == 0 || options.threads == 0 || options.threads > options.concurrency) {
    return make_error(ErrorCategory::kInvalidArgument,
                      "--concurrency must be at least 1 and at least --threads");
  }
  if (options.request_size - std::min<std::uint32_t>(options.request_size, kRequestHeaderSize) >
          kMaxRequestBody ||
      options.response_size > kMaxResponseSize) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("request size must be at most {} and response size at most {}",
                                  kMaxRequestBody + kRequestHeaderSize, kMaxResponseSize));
  }
  if (options.rate < 0 || options.duration <= Nanos{0} || options.timeout <= Nanos{0}) {
    return make_error(ErrorCategory::kInvalidArgument,
                      "--rate must not be negative; --duration and --timeout must be positive");
  }
  const HostPort& first_hop = options.socks ? *options.socks : options.target;
  std::vector<tcp::endpoint> endpoints;
  {
    asio::io_context io;
    tcp::resolver resolver(io);
    asio::error_code ec;
    const auto results = resolver.resolve(first_hop.host, std::to_string(first_hop.port), ec);
    if (ec) {
      return make_error(ErrorCategory::kNotFound,
                        fmt::format("cannot resolve {}: {}", first_hop.host, ec.message()));
    }
    for (const auto& entry : results) {
      endpoints.push_back(entry.endpoint());
    }
  }

  const Clock& clock = SteadyClock::instance();
  const Nanos start = clock.now();
  Run run(options, clock, start);
  run.streams_left = options.concurrency;
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t t = 0; t < options.threads; ++t) {
    auto worker = std::make_unique<Worker>(run);
    worker->first_hop = endpoints;
    if (options.rate > 0) {
      worker->schedule.emplace(start, run.end, options.rate / static_cast<double>(options.threads));
    }
    const std::size_t streams =
        options.concurrency / options.threads + (t < options.concurrency % options.threads ? 1 : 0);
    for (std::size_t s = 0; s < streams; ++s) {
      async::spawn(worker->io.get_executor(), run_stream(*worker), "bench stream");
    }
    workers.push_back(std::move(worker));
  }
  if (progress != nullptr) {
    run.progress_io = &workers.front()->io;
    async::spawn(workers.front()->io.get_executor(), report_progress(*workers.front(), progress),
                 "bench progress");
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < workers.size(); ++t) {
    threads.emplace_back([&worker = *workers[t]] { worker.io.run(); });
  }
  workers.front()->io.run();
  for (auto& thread : threads) {
    thread.join();
  }

  BenchTotals totals;
  totals.requests = run.requests.load();
  totals.errors = run.errors.load();
  for (std::size_t k = 0; k < kBenchErrorKinds; ++k) {
    totals.errors_by_kind[k] = run.errors_by_kind[k].load();
  }
  totals.bytes = run.bytes.load();
  totals.latency_ns = run.latency_ns.snapshot();
  totals.ttfb_ns = run.ttfb_ns.snapshot();
  totals.elapsed = Nanos{run.finished_ns.load()} - start;
  return totals;
}

}  // namespace nyx::cli
