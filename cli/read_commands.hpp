#pragma once
// `nyxctl status|stats|peers|circuits|streams` on the command line: the
// commands that read a running node (cli/node_commands.hpp does the work).
// add_read_commands() registers them with CLI11; run_read_commands() runs
// whichever was parsed. Not thread-safe; main() owns the ReadCommands.

#include <cstdint>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli/node_options.hpp"

namespace nyx::cli {

struct ReadCommands {
  CLI::App* status = nullptr;
  CLI::App* stats = nullptr;
  CLI::App* peers = nullptr;
  CLI::App* circuits = nullptr;
  CLI::App* streams = nullptr;
  NodeOptions node;
  bool watch = false;
  std::uint32_t interval_ms = 1000;
};

void add_read_commands(CLI::App& app, ReadCommands& commands);

// The exit code of the command that was parsed, or nullopt when none was.
std::optional<int> run_read_commands(const ReadCommands& commands);

}  // namespace nyx::cli
