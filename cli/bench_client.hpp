#pragma once
// run_bench(): the load generator behind `nyxctl bench TARGET`. Streams
// (connections, directly or through a SOCKS5 proxy by name) send requests in
// the origin protocol (cli/bench_protocol.hpp) and time them: closed loop by
// default (each stream sends its next request when the last one is done), or
// open loop with a rate (OpenLoopSchedule; latency from the due time). Each
// load thread runs its own io_context with its share of the streams and of
// the rate; a stream's lifecycle is one coroutine, guarded by a watchdog that
// closes a socket whose request outlives the timeout, so a stall is counted
// as an error, never waited out.
//
// Runs on the calling thread (plus threads - 1 more) until done.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>

#include "cli/bench_protocol.hpp"
#include "cli/bench_summary.hpp"
#include "core/error.hpp"
#include "core/host_port.hpp"

namespace nyx::cli {

struct BenchOptions {
  HostPort target;
  std::optional<HostPort> socks;  // CONNECT through this SOCKS5 proxy by name
  // Send the greeting, the CONNECT and the first request in one write, then
  // read the replies and the response (Tor proposal 181, as Tor Browser
  // does): the request does not wait a round trip for the SOCKS reply.
  bool socks_optimistic = false;
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  std::size_t concurrency = 1;      // streams
  std::uint32_t request_size = 64;  // bytes per request, header included
  std::uint64_t response_size = 1024;
  double rate = 0;  // requests/s over all streams; 0 = closed loop
  bool connection_per_request = false;
  BenchMode mode = BenchMode::kRequestResponse;
  std::uint64_t max_requests = 0;  // stop after this many requests (0: duration only)
  std::size_t threads = 1;
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);  // per request
};

// kInvalidArgument for options out of range; otherwise what the run counted
// (connection and request failures are counted, not returned).
// `progress`, when not null, gets one line per second.
Result<BenchTotals> run_bench(const BenchOptions& options, std::FILE* progress);

}  // namespace nyx::cli
