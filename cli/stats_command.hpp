#pragma once
// `nyxctl stats`: every metric of the node (node.stats) as a table or, with
// --json, the raw result; with --watch it follows events.subscribe and
// redraws the table with per-second rates. add_stats_command() registers it
// with CLI11; run_stats_command() runs it when it was the command parsed.
// Not thread-safe; the command table owns the StatsCommand.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct StatsCommand {
  CLI::App* stats = nullptr;
  NodeOptions node;
  bool watch = false;
  std::uint32_t interval_ms = 1000;
};

void add_stats_command(CLI::App& app, StatsCommand& command);

// The exit code when stats was parsed, or nullopt.
std::optional<int> run_stats_command(const StatsCommand& command);

// Calls node.stats once and prints its result.
std::expected<void, Failure> show_stats(control::ControlClient& client,
                                        const OutputOptions& output);

// Follows events.subscribe every `interval`, redrawing the stats table (with
// per-second rates) on a terminal or appending one JSON line per event with
// --json, until the node goes away or `max_events` events (0: no limit).
std::expected<void, Failure> watch_stats(control::ControlClient& client,
                                         std::chrono::milliseconds interval,
                                         const OutputOptions& output, std::size_t max_events = 0);

}  // namespace nyx::cli
