#pragma once
// The commands that read a running node over its control connection:
// status (node.info), stats (node.stats, or events.subscribe with --watch),
// peers, circuits, streams. Each prints a table for people or, with --json,
// the raw result for scripts.
//
// Output goes to the given FILE so tests can capture it. Free functions;
// one thread at a time per ControlClient.

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/exit_code.hpp"
#include "cli/node_connection.hpp"
#include "daemon/control/control_client.hpp"

namespace nyx::cli {

struct OutputOptions {
  bool json = false;
  std::FILE* out = stdout;
};

enum class ListKind { kPeers, kCircuits, kStreams };

// The control method behind a list command ("peers.list", ...).
std::string_view list_method(ListKind kind);

// circuits.list ({"relayed": N, "circuits": [{"id", "state", "age_ms",
// "streams_open", "streams_total", "retired", "isolation", "hops"}]}) for
// people: a line counting relayed circuits, then one row per client circuit
// with its path as each hop's identity cut to 8 hex digits (`nyxctl peers`
// shows them whole). Another shape is shown as plain records.
std::string render_circuits(const nlohmann::json& result);
// streams.list ([{"id", "circuit", "age_ms", "bytes_up", "bytes_down"}]) for
// people. Streams never carry their destination, so neither does the table.
std::string render_streams(const nlohmann::json& result);

// Calls `method` once and prints its result: render(result) for people,
// the JSON for scripts. Failures are returned, not printed.
std::expected<void, Failure> show_status(control::ControlClient& client,
                                         const OutputOptions& output);
std::expected<void, Failure> show_list(control::ControlClient& client, ListKind kind,
                                       const OutputOptions& output);
std::expected<void, Failure> show_stats(control::ControlClient& client,
                                        const OutputOptions& output);

// Follows events.subscribe every `interval`, redrawing the stats table (with
// per-second rates) on a terminal or appending one JSON line per event with
// --json, until the node goes away or `max_events` events (0: no limit).
std::expected<void, Failure> watch_stats(control::ControlClient& client,
                                         std::chrono::milliseconds interval,
                                         const OutputOptions& output, std::size_t max_events = 0);

}  // namespace nyx::cli
