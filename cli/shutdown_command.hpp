#pragma once
// `nyxctl shutdown`: the node stops gracefully (node.shutdown: streams drain
// first); with --wait, nyxctl returns once nothing answers at the node's
// control socket any more. add_shutdown_command() registers it with CLI11;
// run_shutdown_command() runs it when it was the command parsed. Not
// thread-safe; the command table owns the ShutdownCommand.

#include <chrono>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct ShutdownCommand {
  CLI::App* shutdown = nullptr;
  NodeOptions node;
  bool wait = false;
  std::string wait_timeout = "30s";
};

void add_shutdown_command(CLI::App& app, ShutdownCommand& command);

// The exit code when shutdown was parsed, or nullopt.
std::optional<int> run_shutdown_command(const ShutdownCommand& command);

std::expected<void, Failure> shutdown_node(control::ControlClient& client,
                                           const OutputOptions& output);

// Polls until nothing answers at `socket` any more; kFailed after `timeout`.
std::expected<void, Failure> wait_until_gone(const std::filesystem::path& socket,
                                             std::chrono::milliseconds timeout);

}  // namespace nyx::cli
