#include "cli/testnet_command.hpp"

#include <cstdio>

#include "cli/exit_code.hpp"

namespace nyx::cli {

void add_testnet_command(CLI::App& app, TestnetCommand& c) {
  auto* testnet = app.add_subcommand("testnet", "a local network of nyxd processes on 127.0.0.1");
  testnet->require_subcommand(1);
  c.up = testnet->add_subcommand(
      "up", "generate keys, configs and a signed directory, start the nodes, wait for them");
  c.up->add_option("--nodes", c.options.nodes,
                   "nodes: a client with SOCKS5, relays, an exit (at least 5)")
      ->capture_default_str();
  c.up->add_option("--dir", c.options.dir, "where keys, configs, logs and state go")
      ->capture_default_str();
  c.up->add_option("--base-port", c.options.base_port,
                   "node K listens on UDP base+K-1; the SOCKS5 port is base+nodes")
      ->capture_default_str();
  c.status = testnet->add_subcommand("status", "each node's pid, liveness, counters");
  c.status->add_option("--dir", c.options.dir, "the testnet's directory");
  c.status->add_flag("--json", c.json, "print JSON, for scripts");
  c.down = testnet->add_subcommand("down", "stop the nodes (SIGTERM, SIGKILL after 8 s)");
  c.down->add_option("--dir", c.options.dir, "the testnet's directory");
}

std::optional<int> run_testnet_command(const TestnetCommand& c) {
  if (c.up->parsed()) {
    return to_int(testnet_up(c.options, stdout));
  }
  if (c.status->parsed()) {
    return to_int(testnet_status(c.options.dir, c.json, stdout));
  }
  if (c.down->parsed()) {
    return to_int(testnet_down(c.options.dir, stdout));
  }
  return std::nullopt;
}

}  // namespace nyx::cli
