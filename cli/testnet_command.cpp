#include "cli/testnet_command.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "cli/exit_code.hpp"
#include "cli/linkemu/switch_io.hpp"
#include "cli/testnet_hosts.hpp"

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

  // The WAN testnet (docs/proposals/0003 §2): normally started by the test-host
  // code inside a hub namespace, not by hand.
  c.emulator = testnet->add_subcommand(
      "switch", "run the link emulator on this namespace's ports (delay, jitter, loss, rate)");
  c.emulator->add_option("--config", c.emulator_config, "emulator.json: ports, hosts, links")
      ->required();
  c.emulator
      ->add_option("--realtime", c.emulator_realtime,
                   "run as SCHED_FIFO priority 1 when allowed (true|false)")
      ->capture_default_str();
  c.emulator
      ->add_option("--io", c.emulator_io,
                   "ring: one TPACKET_V2 RX ring; recvmmsg: a socket per port")
      ->check(CLI::IsMember({"ring", "recvmmsg"}))
      ->capture_default_str();
  c.gc = testnet->add_subcommand("gc",
                                 "remove test-host namespaces (nyx-<run>-*) whose owner is gone");
  c.gc->add_flag("--force", c.gc_force, "remove every run, also those still in use");
}

namespace {

ExitCode run_emulator(const TestnetCommand& c) {
  std::ifstream in(c.emulator_config);
  if (!in) {
    fmt::print(stderr, "nyxctl: cannot read {}\n", c.emulator_config);
    return ExitCode::kFailed;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto config = linkemu::parse_switch_config(text.str());
  if (!config) {
    fmt::print(stderr, "nyxctl: {}\n", config.error().to_string());
    return ExitCode::kFailed;
  }
  linkemu::SwitchOptions options;
  options.realtime = c.emulator_realtime;
  options.ring = c.emulator_io == "ring";
  if (auto ran = linkemu::run_switch(*config, options, stdout); !ran) {
    fmt::print(stderr, "nyxctl: {}\n", ran.error().to_string());
    return ExitCode::kFailed;
  }
  return ExitCode::kOk;
}

}  // namespace

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
  if (c.emulator->parsed()) {
    return to_int(run_emulator(c));
  }
  if (c.gc->parsed()) {
    auto done = gc_test_hosts(c.gc_force, stdout);
    if (!done) {
      fmt::print(stderr, "nyxctl: {}\n", done.error().to_string());
      return to_int(ExitCode::kFailed);
    }
    return to_int(ExitCode::kOk);
  }
  return std::nullopt;
}

}  // namespace nyx::cli
