#pragma once
// BenchTotals (what a `nyxctl bench` run counted: requests, errors, bytes, and
// latency / time-to-first-byte histograms in nanoseconds, mergeable across
// threads) and BenchSummary (the numbers reported from them, in the units the
// text and --json output use). Plain values; pure functions, thread-safe.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/metrics/histogram.hpp"

namespace nyx::cli {

// Why a request failed: the connection (to the target or the proxy) was not
// made; the SOCKS5 handshake failed or the proxy refused the CONNECT (how an
// overloaded Nyx entry sheds load); the request outlived --timeout; the
// connection was reset or closed before the whole response arrived.
enum class BenchError : std::uint8_t { kNone, kConnect, kSocks, kTimeout, kReset };
inline constexpr std::size_t kBenchErrorKinds = 4;
// "connect", "socks", "timeout", "reset" for BenchError k + 1.
std::string_view bench_error_name(std::size_t kind);

struct BenchTotals {
  std::uint64_t requests = 0;  // completed without error
  std::uint64_t errors = 0;    // failed: connect, SOCKS refusal, reset, timeout, short reply
  std::uint64_t bytes = 0;     // response bytes received (goodput)
  std::array<std::uint64_t, kBenchErrorKinds> errors_by_kind{};  // index: BenchError - 1
  metrics::HistogramSnapshot latency_ns;
  metrics::HistogramSnapshot ttfb_ns;
  Nanos elapsed{0};
};

struct BenchSummary {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::array<std::uint64_t, kBenchErrorKinds> errors_by_kind{};
  double elapsed_s = 0;
  double requests_per_s = 0;
  double bytes_per_s = 0;
  double latency_p50_ms = 0;
  double latency_p95_ms = 0;
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
  double ttfb_p50_ms = 0;
  double ttfb_p95_ms = 0;
};

BenchSummary summarize(const BenchTotals& totals);

// {"requests", "errors", "errors_by_kind": {"connect", "socks", "timeout",
//  "reset"}, "elapsed_s", "requests_per_s", "bytes_per_s",
//  "latency_ms": {"p50","p95","p99","max"}, "ttfb_ms": {"p50","p95"}}
nlohmann::json to_json(const BenchSummary& summary);

// The summary for people, several lines.
std::string format_summary(const BenchSummary& summary);

// One progress line: the last interval's rate, errors so far, p50 so far.
std::string format_progress(double seconds, double requests_per_s, std::uint64_t errors,
                            double p50_ms);

// "1.5 GB/s", "12.0 MB/s", "800 B/s" (decimal units, as network rates are).
std::string format_rate(double bytes_per_s);

}  // namespace nyx::cli
