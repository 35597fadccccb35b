#pragma once
// `nyxctl reload`: the node reloads its config (config.reload), then its
// directory (directory.reload); one line says what was applied, what needs a
// restart and the directory now in use, or with --json both raw results.
// add_reload_command() registers it with CLI11; run_reload_command() runs it
// when it was the command parsed. Not thread-safe; the command table owns
// the ReloadCommand.

#include <expected>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct ReloadCommand {
  CLI::App* reload = nullptr;
  NodeOptions node;
};

void add_reload_command(CLI::App& app, ReloadCommand& command);

// The exit code when reload was parsed, or nullopt.
std::optional<int> run_reload_command(const ReloadCommand& command);

std::expected<void, Failure> reload_node(control::ControlClient& client,
                                         const OutputOptions& output);

// The line for config.reload's and directory.reload's results, e.g.
// "config reloaded: applied log; needs a restart: socks; directory: 5 nodes,
// valid until 2025-01-01 00:00 UTC".
std::string describe_reload(const nlohmann::json& config, const nlohmann::json& directory);

}  // namespace nyx::cli
