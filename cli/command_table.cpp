#include "cli/command_table.hpp"

#include <memory>
#include <utility>

#include "cli/bench_command.hpp"
#include "cli/call_command.hpp"
#include "cli/circuit_command.hpp"
#include "cli/circuits_command.hpp"
#include "cli/config_command.hpp"
#include "cli/directory_command.hpp"
#include "cli/exit_code.hpp"
#include "cli/keygen_command.hpp"
#include "cli/newnym_command.hpp"
#include "cli/peers_command.hpp"
#include "cli/reload_command.hpp"
#include "cli/shutdown_command.hpp"
#include "cli/stats_command.hpp"
#include "cli/status_command.hpp"
#include "cli/streams_command.hpp"
#include "cli/testnet_command.hpp"

namespace nyx::cli {

template <class Command, class Run>
void CommandTable::add(CLI::App& app, void (*add_command)(CLI::App&, Command&), Run run_command) {
  auto command = std::make_unique<Command>();
  add_command(app, *command);
  runs_.emplace_back([command = std::move(command), run_command] { return run_command(*command); });
}

CommandTable::CommandTable(CLI::App& app) {
  // Reading a node.
  add(app, add_status_command, run_status_command);
  add(app, add_stats_command, run_stats_command);
  add(app, add_peers_command, run_peers_command);
  add(app, add_circuits_command, run_circuits_command);
  add(app, add_streams_command, run_streams_command);
  // Acting on a node.
  add(app, add_reload_command, run_reload_command);
  add(app, add_shutdown_command, run_shutdown_command);
  add(app, add_circuit_command, run_circuit_command);
  add(app, add_newnym_command, run_newnym_command);
  add(app, add_call_command, run_call_command);
  // Keys, directories and configs, without a node.
  add(app, add_keygen_command, run_keygen_command);
  add(app, add_directory_command, run_directory_command);
  add(app, add_config_command, run_config_command);
  // Networks and load.
  add(app, add_testnet_command, run_testnet_command);
  add(app, add_bench_command, run_bench_command);
}

int CommandTable::run() const {
  for (const auto& run : runs_) {
    if (auto code = run()) {
      return *code;
    }
  }
  return to_int(ExitCode::kUsage);
}

}  // namespace nyx::cli
