#pragma once
// `nyxctl circuits`: the node's circuits (circuits.list) as a table or, with
// --json, the raw result. add_circuits_command() registers it with CLI11;
// run_circuits_command() runs it when it was the command parsed. Not
// thread-safe; the command table owns the CircuitsCommand. (`nyxctl circuit
// build|close`, which acts on one circuit, is cli/circuit_command.hpp.)

#include <expected>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct CircuitsCommand {
  CLI::App* circuits = nullptr;
  NodeOptions node;
};

void add_circuits_command(CLI::App& app, CircuitsCommand& command);

// The exit code when circuits was parsed, or nullopt.
std::optional<int> run_circuits_command(const CircuitsCommand& command);

// Calls circuits.list once and prints its result.
std::expected<void, Failure> show_circuits(control::ControlClient& client,
                                           const OutputOptions& output);

// circuits.list ({"relayed": N, "circuits": [{"id", "state", "age_ms",
// "streams_open", "streams_total", "retired", "isolation", "hops"}]}) for
// people: a line counting relayed circuits, then one row per client circuit
// with its path as each hop's identity cut to 8 hex digits (`nyxctl peers`
// shows them whole). Another shape is shown as plain records.
std::string render_circuits(const nlohmann::json& result);

}  // namespace nyx::cli
