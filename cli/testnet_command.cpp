#include "cli/testnet_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/exit_code.hpp"
#include "cli/linkemu/switch_io.hpp"
#include "cli/testnet_hosts.hpp"

namespace nyx::cli {
namespace {

// A number followed by one of `units` (suffix, factor; "" for none).
std::optional<double> parse_with_unit(const std::string& text,
                                      const std::vector<std::pair<std::string, double>>& units) {
  for (const auto& [suffix, factor] : units) {
    if (text.size() <= suffix.size() || !text.ends_with(suffix)) {
      continue;
    }
    const std::string number = text.substr(0, text.size() - suffix.size());
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end == number.c_str() || *end != '\0') {
      continue;
    }
    return value * factor;
  }
  return std::nullopt;
}

// `testnet up` and its options.
void add_testnet_up(CLI::App& testnet, TestnetCommand& c) {
  c.up = testnet.add_subcommand(
      "up",
      "generate keys and configs (three relays are authorities), start the nodes, wait for the "
      "first consensus and an open circuit");
  c.up->add_option("--nodes", c.options.nodes,
                   "nodes: a client with SOCKS5, relays, an exit (at least 5)")
      ->capture_default_str();
  c.up->add_option("--dir", c.options.dir, "where keys, configs, logs and state go")
      ->capture_default_str();
  c.up->add_option("--base-port", c.options.base_port,
                   "node K listens on UDP base+K-1; the SOCKS5 port is base+nodes; "
                   "nodes added later take base+nodes+1, ...")
      ->capture_default_str();
  c.up->add_flag("--hosts", c.options.hosts,
                 "WAN testnet (root): each node in its own network namespace on 10.77.0.K, "
                 "an origin host, emulated links between them");
  c.up->add_option("--delay", c.delay, "--hosts: one-way delay of every link (40, 40ms, 1.5s)")
      ->capture_default_str();
  c.up->add_option("--jitter", c.jitter, "--hosts: delay variation (standard deviation)")
      ->capture_default_str();
  c.up->add_option("--loss", c.loss, "--hosts: random loss per link and direction, percent (1, 1%)")
      ->capture_default_str();
  c.up->add_option("--rate", c.rate,
                   "--hosts: the client's access link, both ways (50, 50mbit, 500kbit; 0: none)")
      ->capture_default_str();
  c.up->add_option("--queue-ms,--queue", c.queue, "--hosts: the access link's queue (50, 50ms)")
      ->capture_default_str();
  c.up->add_option("--seed", c.options.links.seed, "--hosts: the emulator's seed (0: random)")
      ->capture_default_str();
  c.up->add_option("--tcp-path", c.tcp_path,
                   "--hosts: the hosts the TCP baseline is routed through, client to origin")
      ->capture_default_str();
  c.up->add_option("--congestion", c.options.congestion,
                   "[stream] congestion in every node's config (default: nyxd's)")
      ->check(CLI::IsMember({"newreno", "bbr"}));
  c.up->add_flag("--verbose", c.options.verbose, "--hosts: print each ip command");
}

// The WAN testnet's tools (docs/proposals/0003 §2): `switch`, normally
// started by the test-host code inside a hub namespace, not by hand; `exec`
// and `gc`.
void add_testnet_host_tools(CLI::App& testnet, TestnetCommand& c) {
  c.emulator = testnet.add_subcommand(
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
  c.exec = testnet.add_subcommand(
      "exec", "run a command inside a test host of a --hosts testnet: exec HOST -- COMMAND...");
  c.exec->add_option("--dir", c.options.dir, "the testnet's directory");
  c.exec->add_option("host", c.exec_host, "client, relay1, ..., exit, origin")->required();
  c.exec->add_option("command", c.exec_command, "the command and its arguments, after --")
      ->required();
  c.gc =
      testnet.add_subcommand("gc", "remove test-host namespaces (nyx-<run>-*) whose owner is gone");
  c.gc->add_flag("--force", c.gc_force, "remove every run, also those still in use");
}

}  // namespace

void add_testnet_command(CLI::App& app, TestnetCommand& c) {
  auto* testnet = app.add_subcommand(
      "testnet", "a local network of nyxd processes, on 127.0.0.1 or on emulated test hosts");
  testnet->require_subcommand(1);
  add_testnet_up(*testnet, c);
  c.status = testnet->add_subcommand("status", "each node's pid, liveness, counters");
  c.status->add_option("--dir", c.options.dir, "the testnet's directory");
  c.status->add_flag("--json", c.json, "print JSON, for scripts");
  c.down = testnet->add_subcommand("down", "stop the nodes (SIGTERM, SIGKILL after 8 s)");
  c.down->add_option("--dir", c.options.dir, "the testnet's directory");
  c.add_relay = testnet->add_subcommand(
      "add-relay",
      "start one more relay on a running local testnet and wait until the client's consensus "
      "lists it");
  c.add_relay->add_option("--dir", c.options.dir, "the testnet's directory");
  c.add_relay->add_flag("--exit", c.add_exit, "the new relay is an exit too");
  c.remove = testnet->add_subcommand(
      "remove",
      "stop a relay of a running local testnet and wait until the client's consensus drops it");
  c.remove->add_option("node", c.remove_node, "the node to remove (node6, ...)")->required();
  c.remove->add_option("--dir", c.options.dir, "the testnet's directory");
  add_testnet_host_tools(*testnet, c);
}

namespace {

// "40", "40ms", "500us", "1.5s" -> milliseconds; a bare number is ms.
std::optional<double> parse_ms(const std::string& text) {
  static const std::vector<std::pair<std::string, double>> kUnits{
      {"us", 1e-3}, {"ms", 1.0}, {"s", 1e3}, {"", 1.0}};
  return parse_with_unit(text, kUnits);
}

// "1", "1%" -> percent; "50", "50mbit", "500kbit", "1gbit" -> Mbit/s.
std::optional<double> parse_pct(const std::string& text) {
  static const std::vector<std::pair<std::string, double>> kUnits{{"%", 1.0}, {"", 1.0}};
  return parse_with_unit(text, kUnits);
}
std::optional<double> parse_mbit(const std::string& text) {
  static const std::vector<std::pair<std::string, double>> kUnits{
      {"kbit", 1e-3}, {"mbit", 1.0}, {"gbit", 1e3}, {"", 1.0}};
  return parse_with_unit(text, kUnits);
}

// The --hosts link options into `options`; false (with the reason printed)
// when one does not parse or lies outside its range.
bool resolve_links(const TestnetCommand& c, TestnetOptions& options) {
  struct Value {
    const char* name;
    const std::string& text;
    std::optional<double> (*parse)(const std::string&);
    double max;
    double& into;
  };
  auto& links = options.links;
  const std::vector<Value> values{{"--delay", c.delay, parse_ms, 10000, links.delay_ms},
                                  {"--jitter", c.jitter, parse_ms, 10000, links.jitter_ms},
                                  {"--loss", c.loss, parse_pct, 100, links.loss_pct},
                                  {"--rate", c.rate, parse_mbit, 100000, links.rate_mbit},
                                  {"--queue-ms", c.queue, parse_ms, 10000, links.queue_ms}};
  for (const auto& v : values) {
    const auto parsed = v.parse(v.text);
    if (!parsed || *parsed < 0 || *parsed > v.max) {
      fmt::print(stderr, "nyxctl: {} '{}': not a value between 0 and {}\n", v.name, v.text, v.max);
      return false;
    }
    v.into = *parsed;
  }
  links.tcp_path.clear();
  std::stringstream path(c.tcp_path);
  for (std::string host; std::getline(path, host, ',');) {
    links.tcp_path.push_back(host);
  }
  return true;
}

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
    TestnetOptions options = c.options;
    if (options.hosts && !resolve_links(c, options)) {
      return to_int(ExitCode::kUsage);
    }
    return to_int(testnet_up(options, stdout));
  }
  if (c.exec->parsed()) {
    return testnet_exec(c.options.dir, c.exec_host, c.exec_command);
  }
  if (c.status->parsed()) {
    return to_int(testnet_status(c.options.dir, c.json, stdout));
  }
  if (c.down->parsed()) {
    return to_int(testnet_down(c.options.dir, stdout));
  }
  if (c.add_relay->parsed()) {
    return to_int(testnet_add_relay(c.options.dir, c.add_exit, stdout));
  }
  if (c.remove->parsed()) {
    return to_int(testnet_remove(c.options.dir, c.remove_node, stdout));
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
