#pragma once
// `nyxctl testnet up|status|down` on the command line (cli/testnet.hpp does
// the work). Not thread-safe; main() owns the TestnetCommand.

#include <optional>

#include <CLI/CLI.hpp>

#include "cli/testnet.hpp"

namespace nyx::cli {

struct TestnetCommand {
  CLI::App* up = nullptr;
  CLI::App* status = nullptr;
  CLI::App* down = nullptr;
  TestnetOptions options;
  bool json = false;
};

void add_testnet_command(CLI::App& app, TestnetCommand& command);

// The exit code of the subcommand that was parsed, or nullopt when none was.
std::optional<int> run_testnet_command(const TestnetCommand& command);

}  // namespace nyx::cli
