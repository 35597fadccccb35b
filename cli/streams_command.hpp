#pragma once
// `nyxctl streams`: the node's streams (streams.list) as a table or, with
// --json, the raw result. add_streams_command() registers it with CLI11;
// run_streams_command() runs it when it was the command parsed. Not
// thread-safe; the command table owns the StreamsCommand.

#include <expected>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct StreamsCommand {
  CLI::App* streams = nullptr;
  NodeOptions node;
};

void add_streams_command(CLI::App& app, StreamsCommand& command);

// The exit code when streams was parsed, or nullopt.
std::optional<int> run_streams_command(const StreamsCommand& command);

// Calls streams.list once and prints its result.
std::expected<void, Failure> show_streams(control::ControlClient& client,
                                          const OutputOptions& output);

// streams.list ([{"id", "circuit", "age_ms", "bytes_up", "bytes_down"}]) for
// people. Streams never carry their destination, so neither does the table.
std::string render_streams(const nlohmann::json& result);

}  // namespace nyx::cli
