#include "cli/bench_command.hpp"

#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/exit_code.hpp"
#include "core/config.hpp"
#include "core/host_port.hpp"

namespace nyx::cli {
namespace {

int usage(const std::string& message) {
  std::fprintf(stderr, "nyxctl bench: %s\n", message.c_str());
  return to_int(ExitCode::kUsage);
}

// `option` TEXT as a HostPort, or the usage error that names both.
Result<HostPort> address_option(std::string_view option, const std::string& text) {
  auto address = parse_host_port(text);
  if (!address) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("{} '{}': {}", option, text, address.error().message));
  }
  return address;
}

int run_server(const BenchServerOptions& options, const std::string& listen) {
  auto address = address_option("--listen", listen);
  if (!address) {
    return usage(address.error().message);
  }
  BenchServerOptions resolved = options;
  resolved.listen = *address;
  if (auto status = run_bench_server(resolved, stdout); !status) {
    std::fprintf(stderr, "nyxctl bench: %s\n", status.error().message.c_str());
    return to_int(status.error().category == ErrorCategory::kInvalidArgument ? ExitCode::kUsage
                                                                             : ExitCode::kFailed);
  }
  return 0;
}

int run_load(BenchCommand& command) {
  BenchOptions options = command.options;
  auto target = address_option("TARGET", command.target);
  if (!target) {
    return usage(target.error().message);
  }
  options.target = *target;
  if (!command.socks.empty()) {
    auto socks = address_option("--socks", command.socks);
    if (!socks) {
      return usage(socks.error().message);
    }
    options.socks = *socks;
  }
  auto duration = parse_duration(command.duration);
  auto timeout = parse_duration(command.timeout);
  if (!duration || !timeout) {
    return usage("--duration and --timeout take durations like 10s, 500ms, 2m");
  }
  options.duration = *duration;
  options.timeout = *timeout;
  if (command.mode == "rr") {
    options.mode = BenchMode::kRequestResponse;
  } else if (command.mode == "bulk") {
    options.mode = BenchMode::kBulk;
  } else if (command.mode == "idle") {
    options.mode = BenchMode::kIdle;
  } else {
    return usage(fmt::format("--mode '{}': expected rr, bulk or idle", command.mode));
  }
  auto totals = run_bench(options, command.quiet ? nullptr : stderr);
  if (!totals) {
    if (totals.error().category == ErrorCategory::kInvalidArgument) {
      return usage(totals.error().message);
    }
    std::fprintf(stderr, "nyxctl bench: %s\n", totals.error().message.c_str());
    return to_int(ExitCode::kFailed);
  }
  const BenchSummary summary = summarize(*totals);
  if (command.json) {
    std::printf("%s\n", to_json(summary).dump().c_str());
  } else {
    std::printf("%s", format_summary(summary).c_str());
  }
  // Errors are results, reported above; the run itself succeeded unless
  // nothing at all got through.
  return summary.requests == 0 && summary.errors > 0 ? to_int(ExitCode::kFailed) : 0;
}

}  // namespace

void add_bench_command(CLI::App& app, BenchCommand& command) {
  auto* bench = app.add_subcommand(
      "bench", "load generator: requests/s, latency, TTFB, goodput (and its origin and proxy)");
  command.bench = bench;
  bench->require_subcommand(0, 1);
  BenchOptions& o = command.options;
  bench->add_option("target", command.target, "the origin, HOST:PORT (a `nyxctl bench serve`)");
  bench->add_option("--socks", command.socks,
                    "connect through this SOCKS5 proxy, HOST:PORT (the name is resolved there)");
  bench->add_option("--duration", command.duration, "how long to send requests")
      ->capture_default_str();
  bench->add_option("--concurrency,-c", o.concurrency, "streams (connections) at once")
      ->capture_default_str();
  bench->add_option("--request-size", o.request_size, "bytes per request, 16-byte header included")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  bench->add_option("--response-size", o.response_size, "bytes per response (1KiB, 1GiB, ...)")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  bench->add_option("--rate", o.rate,
                    "open loop: requests/s over all streams, latency from each scheduled time "
                    "(default: closed loop)");
  bench->add_flag("--connections-per-request", o.connection_per_request,
                  "a new connection (and SOCKS handshake) per request instead of keep-alive");
  bench->add_flag("--socks-optimistic", o.socks_optimistic,
                  "send the SOCKS greeting, CONNECT and first request in one write, before the "
                  "replies (as Tor Browser does); default: wait for each reply");
  bench
      ->add_option("--mode", command.mode,
                   "rr (request/response), bulk (large responses), idle (one exchange, then "
                   "hold the stream open until the end)")
      ->capture_default_str();
  bench->add_option("--requests", o.max_requests, "stop after this many requests (0: no limit)")
      ->capture_default_str();
  bench->add_option("--threads", o.threads, "load threads, each with its own event loop")
      ->capture_default_str();
  bench->add_option("--timeout", command.timeout, "a request taking longer counts as an error")
      ->capture_default_str();
  bench->add_flag("--json", command.json, "print the summary as one JSON object");
  bench->add_flag("--quiet,-q", command.quiet, "no progress line on stderr");

  const auto add_server = [&](const char* name, const char* what, BenchServerOptions& options,
                              std::string& listen) {
    auto* sub = bench->add_subcommand(name, what);
    sub->add_option("--listen", listen, "address to listen on, HOST:PORT (port 0: any)")
        ->capture_default_str();
    sub->add_option("--max-connections", options.max_connections,
                    "connections at once; more are closed on accept")
        ->capture_default_str();
    sub->add_option("--threads", options.threads, "threads serving connections")
        ->capture_default_str();
    return sub;
  };
  command.serve_options.kind = BenchServerKind::kOrigin;
  command.proxy_options.kind = BenchServerKind::kProxy;
  command.serve = add_server("serve", "the origin: answers nyxctl bench requests, until SIGTERM",
                             command.serve_options, command.serve_listen);
  command.proxy =
      add_server("proxy", "plain one-hop SOCKS5 relay, no crypto (the baseline), until SIGTERM",
                 command.proxy_options, command.proxy_listen);
}

std::optional<int> run_bench_command(BenchCommand& command) {
  if (command.bench == nullptr || !command.bench->parsed()) {
    return std::nullopt;
  }
  if (command.serve->parsed()) {
    return run_server(command.serve_options, command.serve_listen);
  }
  if (command.proxy->parsed()) {
    return run_server(command.proxy_options, command.proxy_listen);
  }
  if (command.target.empty()) {
    return usage("give a TARGET (HOST:PORT), or a subcommand: serve, proxy");
  }
  return run_load(command);
}

}  // namespace nyx::cli
