// nyxctl: the command-line client of a Nyx node. Reads and controls a running
// node over its control socket, generates keys, signs and verifies
// directories, checks configs and runs a local test network. Each command
// (or group) registers itself from its own file; this only wires them.
// Exit codes: see kExitCodes.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/action_commands.hpp"
#include "cli/bench_command.hpp"
#include "cli/config_command.hpp"
#include "cli/directory_command.hpp"
#include "cli/exit_code.hpp"
#include "cli/keygen_command.hpp"
#include "cli/read_commands.hpp"
#include "cli/testnet_command.hpp"
#include "nyx_version.hpp"

namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the node answered with an error, or the operation failed\n"
    "     (bad signature, expired directory, invalid config, ...)\n"
    "  2  usage: unknown command, bad option or argument\n"
    "  3  no node is running at the control socket";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nyxctl: control a Nyx node, manage keys and directories, run a local network"};
  app.footer(kExitCodes);
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       fmt::format("nyxctl {} (commit {}, {})", nyx::version::kVersion,
                                   nyx::version::kGitCommit, nyx::version::kBuildType),
                       "print the version, commit and build type, and exit");

  nyx::cli::ReadCommands read;
  nyx::cli::add_read_commands(app, read);
  nyx::cli::ActionCommands action;
  nyx::cli::add_action_commands(app, action);
  nyx::cli::KeygenCommand keygen;
  nyx::cli::add_keygen_command(app, keygen);
  nyx::cli::DirectoryCommand directory;
  nyx::cli::add_directory_command(app, directory);
  nyx::cli::ConfigCommand config;
  nyx::cli::add_config_command(app, config);
  nyx::cli::TestnetCommand testnet;
  nyx::cli::add_testnet_command(app, testnet);
  nyx::cli::BenchCommand bench;
  nyx::cli::add_bench_command(app, bench);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return nyx::cli::to_int(nyx::cli::ExitCode::kUsage);
  }

  if (auto code = nyx::cli::run_bench_command(bench)) {
    return *code;
  }
  if (auto code = nyx::cli::run_read_commands(read)) {
    return *code;
  }
  if (auto code = nyx::cli::run_action_commands(action)) {
    return *code;
  }
  if (auto code = nyx::cli::run_keygen_command(keygen)) {
    return *code;
  }
  if (auto code = nyx::cli::run_directory_command(directory)) {
    return *code;
  }
  if (auto code = nyx::cli::run_config_command(config)) {
    return *code;
  }
  if (auto code = nyx::cli::run_testnet_command(testnet)) {
    return *code;
  }
  return nyx::cli::to_int(nyx::cli::ExitCode::kUsage);
}
