// nyxctl: the command-line client of a Nyx node. Reads and controls a running
// node over its control socket, generates keys, signs and verifies
// directories, checks configs and runs a local test network. Each subcommand
// registers itself from its own file, listed in cli/command_table.cpp; this
// only parses and runs the one given.
// Exit codes: see kExitCodes.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command_table.hpp"
#include "cli/exit_code.hpp"
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

  const nyx::cli::CommandTable commands(app);

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

  return commands.run();
}
