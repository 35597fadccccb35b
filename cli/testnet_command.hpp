#pragma once
// `nyxctl testnet up|status|down|add-relay|remove|exec` on the command line
// (cli/testnet.hpp does the work; `up --hosts` puts the nodes on test hosts
// with emulated links; add-relay and remove change a running local testnet), and the WAN testnet's
// pieces: `testnet switch` (the link emulator, cli/linkemu, run inside a hub namespace by
// cli/testnet_hosts) and `testnet gc` (removes test-host namespaces left behind). Not thread-safe;
// the command table owns the TestnetCommand.

#include <optional>
#include <string>
#include <vector>

#include "cli/testnet.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct TestnetCommand {
  CLI::App* up = nullptr;
  CLI::App* status = nullptr;
  CLI::App* down = nullptr;
  CLI::App* add_relay = nullptr;
  CLI::App* remove = nullptr;
  CLI::App* emulator = nullptr;  // `testnet switch`
  CLI::App* gc = nullptr;
  CLI::App* exec = nullptr;
  // --hosts link values as given (units optional: 40, 40ms, 1.5s; 1, 1%;
  // 50, 50mbit, 500kbit), parsed by run_testnet_command.
  std::string delay = "0";
  std::string jitter = "0";
  std::string loss = "0";
  std::string rate = "0";
  std::string queue = "50";
  std::string tcp_path = "client,relay1,relay2,exit,origin";
  bool add_exit = false;    // add-relay --exit
  std::string remove_node;  // remove NODE
  std::string exec_host;
  std::vector<std::string> exec_command;
  std::string emulator_config;
  bool emulator_realtime = true;
  std::string emulator_io = "ring";
  bool gc_force = false;
  TestnetOptions options;
  bool json = false;
};

void add_testnet_command(CLI::App& app, TestnetCommand& command);

// The exit code of the subcommand that was parsed, or nullopt when none was.
std::optional<int> run_testnet_command(const TestnetCommand& command);

}  // namespace nyx::cli
