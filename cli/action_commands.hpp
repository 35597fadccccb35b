#pragma once
// `nyxctl reload|shutdown|circuit build|circuit close|newnym|call` on the
// command line: the commands that act on a running node
// (cli/node_actions.hpp does the work). add_action_commands() registers them
// with CLI11; run_action_commands() runs whichever was parsed. Not
// thread-safe; main() owns the ActionCommands.

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/node_options.hpp"

namespace nyx::cli {

struct ActionCommands {
  CLI::App* reload = nullptr;
  CLI::App* shutdown = nullptr;
  CLI::App* circuit_build = nullptr;
  CLI::App* circuit_close = nullptr;
  CLI::App* newnym = nullptr;
  CLI::App* call = nullptr;
  NodeOptions node;
  bool wait = false;
  std::string wait_timeout = "30s";
  std::uint64_t circuit_id = 0;
  std::string method;
  std::string params;
};

void add_action_commands(CLI::App& app, ActionCommands& commands);

// The exit code of the command that was parsed, or nullopt when none was.
std::optional<int> run_action_commands(const ActionCommands& commands);

}  // namespace nyx::cli
