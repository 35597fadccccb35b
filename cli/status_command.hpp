#pragma once
// `nyxctl status`: what the node is (node.info: id, roles, addresses,
// uptime) as "field  value" lines or, with --json, the raw result.
// add_status_command() registers it with CLI11; run_status_command() runs it
// when it was the command parsed. Not thread-safe; the command table owns the
// StatusCommand.

#include <expected>
#include <optional>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct StatusCommand {
  CLI::App* status = nullptr;
  NodeOptions node;
};

void add_status_command(CLI::App& app, StatusCommand& command);

// The exit code when status was parsed, or nullopt.
std::optional<int> run_status_command(const StatusCommand& command);

// Calls node.info once and prints its result.
std::expected<void, Failure> show_status(control::ControlClient& client,
                                         const OutputOptions& output);

}  // namespace nyx::cli
