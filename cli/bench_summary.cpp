#include "cli/bench_summary.hpp"

#include <fmt/format.h>

namespace nyx::cli {
namespace {

double to_ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

std::string_view bench_error_name(std::size_t kind) {
  static constexpr std::array<std::string_view, kBenchErrorKinds> kNames{"connect", "socks",
                                                                         "timeout", "reset"};
  return kind < kNames.size() ? kNames[kind] : "unknown";
}

BenchSummary summarize(const BenchTotals& totals) {
  BenchSummary out;
  out.requests = totals.requests;
  out.errors = totals.errors;
  out.errors_by_kind = totals.errors_by_kind;
  out.elapsed_s = static_cast<double>(totals.elapsed.count()) / 1e9;
  if (out.elapsed_s > 0) {
    out.requests_per_s = static_cast<double>(totals.requests) / out.elapsed_s;
    out.bytes_per_s = static_cast<double>(totals.bytes) / out.elapsed_s;
  }
  out.latency_p50_ms = to_ms(totals.latency_ns.percentile(0.50));
  out.latency_p95_ms = to_ms(totals.latency_ns.percentile(0.95));
  out.latency_p99_ms = to_ms(totals.latency_ns.percentile(0.99));
  out.latency_max_ms = to_ms(totals.latency_ns.max());
  out.ttfb_p50_ms = to_ms(totals.ttfb_ns.percentile(0.50));
  out.ttfb_p95_ms = to_ms(totals.ttfb_ns.percentile(0.95));
  return out;
}

nlohmann::json to_json(const BenchSummary& s) {
  nlohmann::json kinds = nlohmann::json::object();
  for (std::size_t k = 0; k < kBenchErrorKinds; ++k) {
    kinds[std::string(bench_error_name(k))] = s.errors_by_kind[k];
  }
  return {{"requests", s.requests},
          {"errors", s.errors},
          {"errors_by_kind", kinds},
          {"elapsed_s", s.elapsed_s},
          {"requests_per_s", s.requests_per_s},
          {"bytes_per_s", s.bytes_per_s},
          {"latency_ms",
           {{"p50", s.latency_p50_ms},
            {"p95", s.latency_p95_ms},
            {"p99", s.latency_p99_ms},
            {"max", s.latency_max_ms}}},
          {"ttfb_ms", {{"p50", s.ttfb_p50_ms}, {"p95", s.ttfb_p95_ms}}}};
}

std::string format_rate(double bytes_per_s) {
  if (bytes_per_s >= 1e9) {
    return fmt::format("{:.2f} GB/s", bytes_per_s / 1e9);
  }
  if (bytes_per_s >= 1e6) {
    return fmt::format("{:.1f} MB/s", bytes_per_s / 1e6);
  }
  if (bytes_per_s >= 1e3) {
    return fmt::format("{:.1f} kB/s", bytes_per_s / 1e3);
  }
  return fmt::format("{:.0f} B/s", bytes_per_s);
}

std::string format_summary(const BenchSummary& s) {
  return fmt::format(
      "requests      {} in {:.2f} s, {} errors ({} connect, {} socks, {} timeout, {} reset)\n"
      "requests/s    {:.0f}\n"
      "latency       p50 {:.3f} ms  p95 {:.3f} ms  p99 {:.3f} ms  max {:.3f} ms\n"
      "TTFB          p50 {:.3f} ms  p95 {:.3f} ms\n"
      "goodput       {}\n",
      s.requests, s.elapsed_s, s.errors, s.errors_by_kind[0], s.errors_by_kind[1],
      s.errors_by_kind[2], s.errors_by_kind[3], s.requests_per_s, s.latency_p50_ms,
      s.latency_p95_ms, s.latency_p99_ms, s.latency_max_ms, s.ttfb_p50_ms, s.ttfb_p95_ms,
      format_rate(s.bytes_per_s));
}

std::string format_progress(double seconds, double requests_per_s, std::uint64_t errors,
                            double p50_ms) {
  return fmt::format("[{:5.1f} s] {:8.0f} req/s  {} errors  p50 {:.3f} ms", seconds, requests_per_s,
                     errors, p50_ms);
}

}  // namespace nyx::cli
