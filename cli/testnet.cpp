#include "cli/testnet.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <expected>
#include <fstream>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/process.hpp"
#include "cli/table.hpp"
#include "cli/testnet_hosts.hpp"
#include "cli/testnet_membership.hpp"
#include "cli/testnet_progress.hpp"
#include "cli/testnet_watch.hpp"
#include "cli/text_file.hpp"

namespace nyx::cli {
namespace {

// nyxd drains for its configured deadline (2 s here) before exiting.
constexpr auto kStopGrace = std::chrono::milliseconds(8000);

// True on success; otherwise prints the error and returns false.
bool succeeded(const Status& status) {
  if (!status) {
    complain(status.error().message);
  }
  return status.has_value();
}

Status save_state(const Testnet& testnet) {
  return write_text_file(testnet.state_file(), testnet.to_json().dump(2) + "\n");
}

std::vector<TestHost> test_hosts_of(const Testnet& testnet) {
  std::vector<TestHost> hosts;
  for (std::size_t i = 0; testnet.hosts && i < testnet.hosts->names.size(); ++i) {
    hosts.push_back({testnet.hosts->names[i], static_cast<int>(i + 1)});
  }
  return hosts;
}

// The emulator's config for a --hosts testnet: the links everywhere, the
// client's access shaper, the seed (a chosen one is written back to `links`).
linkemu::SwitchConfig emulator_config(const TestHosts& hosts, TestnetLinks& links) {
  const auto nanos = [](double ms) { return static_cast<linkemu::Nanos>(ms * 1e6); };
  linkemu::LinkParams link;
  link.delay = nanos(links.delay_ms);
  link.jitter = nanos(links.jitter_ms);
  link.loss = links.loss_pct / 100.0;
  auto config = hosts.switch_config(link);
  if (links.seed != 0) {
    config.seed = links.seed;
  }
  links.seed = config.seed;
  for (auto& host : config.hosts) {
    if (host.name == "client" && links.rate_mbit > 0) {
      linkemu::ShaperParams shaper;
      shaper.rate_bps = static_cast<std::uint64_t>(links.rate_mbit * 1e6);
      shaper.queue_time = nanos(links.queue_ms);
      host.params.up = shaper;
      host.params.down = shaper;
    }
  }
  return config;
}

// The verdict part of the switch's statistics file (what `status` and `down`
// print, what bench-wan records); null when there is none.
nlohmann::json read_emulator_verdict(const Testnet& testnet) {
  std::ifstream in(testnet.dir / "emulator-stats.json");
  const auto stats = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (stats.is_discarded() || !stats.is_object() || !stats.contains("verdict")) {
    return nullptr;
  }
  nlohmann::json summary{{"ok", stats["verdict"].value("ok", false)},
                         {"reasons", stats["verdict"].value("reasons", nlohmann::json::array())}};
  for (const char* key : {"forwarded", "loss_drops", "queue_drops", "ring_drops", "cpu_pct"}) {
    if (stats.contains(key)) {
      summary[key] = stats[key];
    }
  }
  if (stats.contains("lateness_us")) {
    summary["lateness_us"] = stats["lateness_us"];
  }
  return summary;
}

// Asks the running switch for fresh statistics (SIGUSR1) and reads them.
nlohmann::json emulator_status(const Testnet& testnet) {
  const pid_t pid = testnet.hosts->switch_pid;
  std::ifstream cmdline(fmt::format("/proc/{}/cmdline", pid), std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(cmdline), std::istreambuf_iterator<char>()};
  if (pid <= 0 || text.find((testnet.dir / "emulator.json").string()) == std::string::npos) {
    return {{"running", false}};
  }
  std::error_code ec;
  const auto stats = testnet.dir / "emulator-stats.json";
  const auto before = std::filesystem::exists(stats, ec)
                          ? std::filesystem::last_write_time(stats, ec)
                          : std::filesystem::file_time_type::min();
  ::kill(pid, SIGUSR1);
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (std::filesystem::exists(stats, ec) &&
        std::filesystem::last_write_time(stats, ec) != before) {
      break;
    }
  }
  auto verdict = read_emulator_verdict(testnet);
  if (verdict.is_null()) {
    verdict = nlohmann::json::object();
  }
  verdict["running"] = true;
  return verdict;
}

std::string emulator_line(const nlohmann::json& emulator) {
  if (emulator.is_null() || !emulator.contains("ok")) {
    return emulator.is_object() && emulator.value("running", true) == false
               ? "emulator: not running"
               : "emulator: no statistics";
  }
  const auto lateness_p99 =
      emulator.contains("lateness_us") ? emulator["lateness_us"].value("p99", 0.0) : 0.0;
  if (emulator["ok"].get<bool>()) {
    return fmt::format("emulator: ok (p99 lateness {:.0f} us, {} packets forwarded)", lateness_p99,
                       emulator.value("forwarded", 0));
  }
  return fmt::format("emulator: BEHIND ({}): results of this run are not attributable",
                     emulator["reasons"].dump());
}

// The run of a --hosts testnet, taken over so it can be removed.
std::unique_ptr<TestHosts> adopt_hosts(const Testnet& testnet, std::FILE* out) {
  return TestHosts::adopt(testnet.hosts->run, test_hosts_of(testnet),
                          {.dir = testnet.dir, .nyxctl = {}, .verbose = false, .out = out},
                          testnet.hosts->switch_pid);
}

// What stopping a node came to, as `down` and `remove` print it.
constexpr const char* kStopOutcome[] = {"was not running", "stopped",
                                        "killed (SIGKILL after the grace period)"};

// Stops `node` (SIGTERM, SIGKILL after the grace period); an index of
// kStopOutcome.
int stop_node(const Testnet& testnet, const TestnetNode& node) {
  if (node.pid == 0 || !runs_node(testnet, node)) {
    return 0;
  }
  return stop_process(node.pid, kStopGrace) ? 1 : 2;
}

// A stopped node: no pid in the state, no pid file.
void forget_pid(const Testnet& testnet, TestnetNode& node) {
  std::error_code ec;
  std::filesystem::remove(testnet.pid_file(node), ec);
  node.pid = 0;
}

void stop_started(Testnet& testnet, std::FILE* out) {
  for (auto& node : testnet.nodes) {
    if (node.pid != 0 && runs_node(testnet, node)) {
      stop_process(node.pid, kStopGrace);
    }
    forget_pid(testnet, node);
  }
  (void)save_state(testnet);  // best effort: the nodes are stopped either way
  say(out, "stopped the nodes that had started\n");
}

// Makes room for a new testnet in testnet.dir: a stopped testnet of ours is
// removed (with what is left of its test hosts); false (with the reason
// printed) when one still runs there or the directory holds something else.
bool make_room(const Testnet& testnet, std::FILE* out) {
  std::error_code ec;
  if (auto previous = load_testnet(testnet.dir)) {
    for (const auto& node : previous->nodes) {
      if (runs_node(*previous, node)) {
        complain(
            fmt::format("a testnet is already running in {} ({} is pid {}); stop it with "
                        "`nyxctl testnet down --dir {}`",
                        testnet.dir.string(), node.name, node.pid, testnet.dir.string()));
        return false;
      }
    }
    // A stopped testnet of ours: start afresh (new keys, a new network), and
    // remove what may be left of its test hosts.
    if (previous->hosts) {
      (void)adopt_hosts(*previous, out)->teardown();
    }
    std::filesystem::remove_all(testnet.dir, ec);
  } else if (std::filesystem::exists(testnet.dir, ec) &&
             !std::filesystem::is_empty(testnet.dir, ec)) {
    complain(
        fmt::format("{} exists and holds no testnet; choose another --dir", testnet.dir.string()));
    return false;
  }
  return true;
}

// Keys, configs and the state file; false (with the reason printed) when one
// cannot be written.
bool write_files(Testnet& testnet, std::FILE* out) {
  const auto authorities = static_cast<std::size_t>(
      std::count_if(testnet.nodes.begin(), testnet.nodes.end(),
                    [](const TestnetNode& node) { return node.is_authority(); }));
  say(out, fmt::format("generating {} node keys, {} authority keys and configs in {}\n",
                       testnet.nodes.size(), authorities, testnet.dir.string()));
  return succeeded(generate_testnet_files(testnet)) && succeeded(save_state(testnet));
}

// The test hosts, the switch and the routes of a --hosts testnet, into
// `hosts` and recorded in the state as they come; false (with the reason
// printed) when one cannot be made. What was made is removed again (and the
// processes in it) when `hosts` goes out of scope.
bool make_test_hosts(Testnet& testnet, const TestnetOptions& options,
                     std::unique_ptr<TestHosts>& hosts, std::FILE* out) {
  say(out, fmt::format("making {} test hosts and the link emulator (delay {} ms, jitter {} ms, "
                       "loss {} %, client rate {} Mbit/s, queue {} ms)\n",
                       testnet.hosts->names.size(), options.links.delay_ms, options.links.jitter_ms,
                       options.links.loss_pct, options.links.rate_mbit, options.links.queue_ms));
  auto made =
      TestHosts::create(test_hosts_of(testnet),
                        {.dir = testnet.dir, .nyxctl = {}, .verbose = options.verbose, .out = out});
  if (!made) {
    complain(made.error().message);
    return false;
  }
  hosts = std::move(*made);
  testnet.hosts->run = hosts->run();
  if (!succeeded(save_state(testnet)) ||
      !succeeded(hosts->start_switch(emulator_config(*hosts, testnet.hosts->links)))) {
    return false;
  }
  testnet.hosts->switch_pid = hosts->switch_pid();
  return succeeded(hosts->route_through(testnet.hosts->links.tcp_path)) &&
         succeeded(save_state(testnet));
}

// Starts `node`'s nyxd (inside its test host with --hosts) and records its
// pid in its pid file and the state.
Status start_node(Testnet& testnet, TestnetNode& node, const std::filesystem::path& nyxd) {
  std::vector<std::string> argv{nyxd.string(), "--config", testnet.config(node).string()};
  if (testnet.hosts) {
    argv = host_command(testnet.hosts->run, node.host, argv);
  }
  auto pid = spawn_background(argv, testnet.log(node));
  if (!pid) {
    return std::unexpected(std::move(pid.error()));
  }
  node.pid = *pid;
  (void)write_text_file(testnet.pid_file(node), fmt::format("{}\n", node.pid));
  return save_state(testnet);
}

// Starts every node's nyxd, recording each pid; false (with the reason
// printed, the started nodes stopped again) when one cannot be started.
bool start_nodes(Testnet& testnet, const std::filesystem::path& nyxd, std::FILE* out) {
  for (auto& node : testnet.nodes) {
    if (!succeeded(start_node(testnet, node, nyxd))) {
      stop_started(testnet, out);
      return false;
    }
  }
  return true;
}

// What is up and how to use it: a --hosts testnet.
void print_hosts_summary(const Testnet& testnet, std::FILE* out) {
  const std::string dir = testnet.dir.string();
  const auto& links = testnet.hosts->links;
  say(out,
      fmt::format("\ntestnet up on test hosts (run {}): {} nodes on 10.77.0.1-{}, origin host "
                  "10.77.0.{}, SOCKS5 at {} on the client host\n"
                  "links: delay {} ms, jitter {} ms, loss {} %, client {} Mbit/s, queue {} ms, "
                  "seed {}; TCP baseline via {}\n\n"
                  "  nyxctl testnet exec --dir {} origin -- python3 -m http.server --bind "
                  "10.77.0.{} 8000 &\n"
                  "  nyxctl testnet exec --dir {} client -- curl --socks5-hostname {} "
                  "http://10.77.0.{}:8000/\n\n"
                  "  nyxctl testnet status --dir {}\n"
                  "  nyxctl testnet down --dir {}\n",
                  testnet.hosts->run, testnet.nodes.size(), testnet.nodes.size(),
                  testnet.nodes.size() + 1, testnet.socks_address(), links.delay_ms,
                  links.jitter_ms, links.loss_pct, links.rate_mbit, links.queue_ms, links.seed,
                  fmt::join(links.tcp_path, ","), dir, testnet.nodes.size() + 1, dir,
                  testnet.socks_address(), testnet.nodes.size() + 1, dir, dir));
}

// What is up and how to use it: a testnet on 127.0.0.1.
void print_local_summary(const Testnet& testnet, std::FILE* out) {
  const std::string socks = fmt::format("127.0.0.1:{}", testnet.socks_port());
  say(out, fmt::format("\ntestnet up: {} nodes, SOCKS5 at {}\n\n"
                       "  curl --socks5-hostname {} http://127.0.0.1:8000/\n\n"
                       "  nyxctl status --data-dir {}\n"
                       "  nyxctl testnet status --dir {}\n"
                       "  nyxctl testnet down --dir {}\n",
                       testnet.nodes.size(), socks, socks,
                       testnet.data_dir(testnet.nodes.front()).string(), testnet.dir.string(),
                       testnet.dir.string()));
}

// One node's line in `testnet status`: its JSON entry and the cells that ask
// it ("-" when it does not answer).
struct NodeStatus {
  nlohmann::json entry;
  std::string uptime = "-";
  std::string peers_up = "-";
  std::string circuits = "-";
};

NodeStatus node_status(const Testnet& testnet, const TestnetNode& node, bool alive) {
  NodeStatus status;
  status.entry = {{"name", node.name},
                  {"roles", node.roles},
                  {"pid", node.pid},
                  {"alive", alive},
                  {"control", false}};
  if (node.removed) {
    status.entry["removed"] = true;
  }
  if (!alive) {
    return status;
  }
  auto& entry = status.entry;
  if (auto info = ask_node(testnet, node, "node.info")) {
    entry["control"] = true;
    entry["uptime_seconds"] = info->value("uptime_seconds", 0);
    status.uptime = format_uptime(info->value("uptime_seconds", std::uint64_t{0}));
    if (const auto consensus = installed_consensus(*info)) {
      entry["consensus"] = {{"period", consensus->period}, {"nodes", consensus->nodes}};
    }
  }
  if (auto peers = ask_node(testnet, node, "peers.list"); peers && peers->is_array()) {
    const auto up = static_cast<std::size_t>(
        std::count_if(peers->begin(), peers->end(),
                      [](const nlohmann::json& p) { return p.value("up", false); }));
    entry["peers_up"] = up;
    status.peers_up = fmt::format("{}/{}", up, peers->size());
  }
  if (auto list = ask_node(testnet, node, "circuits.list"); list && list->is_object()) {
    // A client counts the circuits it built, a relay those passing through it.
    const std::size_t count = list->contains("circuits") && (*list)["circuits"].is_array()
                                  ? (*list)["circuits"].size()
                                  : 0;
    const std::size_t relayed = list->contains("relayed") && (*list)["relayed"].is_number_unsigned()
                                    ? (*list)["relayed"].get<std::size_t>()
                                    : 0;
    entry["circuits"] = count;
    entry["relayed"] = relayed;
    status.circuits = fmt::format("{}/{}", count, relayed);
  }
  return status;
}

}  // namespace

ExitCode testnet_up(const TestnetOptions& options, std::FILE* out) {
  auto planned = plan_testnet(options);
  if (!planned) {
    complain(planned.error().message);
    return ExitCode::kUsage;
  }
  Testnet testnet = std::move(*planned);
  std::error_code ec;
  // Absolute, so the state file and the nodes' command lines name one path
  // whatever directory later commands run in.
  testnet.dir = std::filesystem::absolute(testnet.dir, ec).lexically_normal();
  auto nyxd = find_program("nyxd");
  if (!nyxd) {
    complain(nyxd.error().message + "; build it (cmake --build ... --target nyxd)");
    return ExitCode::kFailed;
  }
  if (!make_room(testnet, out) || !write_files(testnet, out)) {
    return ExitCode::kFailed;
  }
  const auto started = TestnetClock::now();
  // On any failure below, `hosts` going out of scope removes the test hosts
  // again (and the processes in them).
  std::unique_ptr<TestHosts> hosts;
  if (testnet.hosts && !make_test_hosts(testnet, options, hosts, out)) {
    return ExitCode::kFailed;
  }
  if (!start_nodes(testnet, *nyxd, out)) {
    return ExitCode::kFailed;
  }
  if (!wait_for_nodes(testnet, started, out)) {
    stop_started(testnet, out);
    return ExitCode::kFailed;
  }
  if (!hosts) {
    print_local_summary(testnet, out);
    return ExitCode::kOk;
  }
  if (auto status = hosts->release(); !status) {
    complain(status.error().message);
    stop_started(testnet, out);
    return ExitCode::kFailed;
  }
  (void)save_state(testnet);
  print_hosts_summary(testnet, out);
  return ExitCode::kOk;
}

ExitCode testnet_status(const std::filesystem::path& dir, bool json, std::FILE* out) {
  auto testnet = load_testnet(dir);
  if (!testnet) {
    complain(testnet.error().message);
    return ExitCode::kNotRunning;
  }
  nlohmann::json report = nlohmann::json::array();
  Table table(
      {"NODE", "ROLES", "PID", "ALIVE", "CONTROL", "UPTIME", "PEERS UP", "CIRCUITS/RELAYED"});
  for (std::size_t c : {2u, 5u, 6u, 7u}) {
    table.set_align(c, Table::Align::kRight);
  }
  std::size_t alive_count = 0;
  std::size_t removed_count = 0;
  for (const auto& node : testnet->nodes) {
    const bool alive = !node.removed && runs_node(*testnet, node);
    alive_count += alive ? 1 : 0;
    removed_count += node.removed ? 1 : 0;
    NodeStatus status = node_status(*testnet, node, alive);
    table.add_row({node.name, fmt::format("{}", fmt::join(node.roles, ",")),
                   node.pid != 0 ? fmt::format("{}", node.pid) : "-",
                   node.removed ? "removed"
                   : alive      ? "yes"
                                : "no",
                   status.entry["control"].get<bool>() ? "ok" : "-", status.uptime, status.peers_up,
                   status.circuits});
    report.push_back(std::move(status.entry));
  }
  // Removed nodes are listed but no longer expected to run.
  const std::size_t members = testnet->nodes.size() - removed_count;
  nlohmann::json emulator;
  if (testnet->hosts) {
    emulator = emulator_status(*testnet);
  }
  if (json) {
    nlohmann::json state{
        {"dir", dir.string()}, {"socks", testnet->socks_address()}, {"nodes", report}};
    if (testnet->hosts) {
      state["hosts"] = {{"run", testnet->hosts->run},
                        {"links", testnet->hosts->links.to_json()},
                        {"emulator", emulator}};
    }
    say(out, state.dump(2) + "\n");
  } else {
    say(out, fmt::format("testnet {} — {} of {} nodes alive{}, SOCKS5 at {}\n", dir.string(),
                         alive_count, members,
                         removed_count != 0 ? fmt::format(" ({} removed)", removed_count) : "",
                         testnet->socks_address()));
    if (testnet->hosts) {
      say(out,
          fmt::format("test hosts: run {}, {}\n", testnet->hosts->run, emulator_line(emulator)));
    }
    say(out, "\n" + table.render());
  }
  return alive_count == members ? ExitCode::kOk
         : alive_count == 0     ? ExitCode::kNotRunning
                                : ExitCode::kFailed;
}

int testnet_exec(const std::filesystem::path& dir, const std::string& host,
                 const std::vector<std::string>& command) {
  auto testnet = load_testnet(dir);
  if (!testnet) {
    complain(testnet.error().message);
    return to_int(ExitCode::kNotRunning);
  }
  if (!testnet->hosts) {
    complain(fmt::format("the testnet in {} runs on 127.0.0.1, not on test hosts (--hosts)",
                         dir.string()));
    return to_int(ExitCode::kUsage);
  }
  const auto& names = testnet->hosts->names;
  if (std::find(names.begin(), names.end(), host) == names.end()) {
    complain(fmt::format("no test host '{}' (hosts: {})", host, fmt::join(names, ", ")));
    return to_int(ExitCode::kUsage);
  }
  if (command.empty()) {
    complain("give the command after --");
    return to_int(ExitCode::kUsage);
  }
  auto status = run_program(host_command(testnet->hosts->run, host, command));
  if (!status) {
    complain(status.error().message);
    return to_int(ExitCode::kFailed);
  }
  return *status;
}

ExitCode testnet_down(const std::filesystem::path& dir, std::FILE* out) {
  auto testnet = load_testnet(dir);
  if (!testnet) {
    complain(testnet.error().message);
    return ExitCode::kNotRunning;
  }
  // Signal every node first so they drain in parallel, then wait for each.
  std::vector<std::thread> stoppers;
  std::vector<int> outcome(testnet->nodes.size(), 0);  // an index of kStopOutcome
  for (std::size_t i = 0; i < testnet->nodes.size(); ++i) {
    const auto& node = testnet->nodes[i];
    if (node.pid == 0 || !runs_node(*testnet, node)) {
      continue;
    }
    stoppers.emplace_back(
        [&outcome, i, &testnet = *testnet, &node] { outcome[i] = stop_node(testnet, node); });
  }
  for (auto& stopper : stoppers) {
    stopper.join();
  }
  for (std::size_t i = 0; i < testnet->nodes.size(); ++i) {
    auto& node = testnet->nodes[i];
    if (node.removed) {
      continue;  // stopped by `remove` already
    }
    say(out, fmt::format("  {:<7} pid {:<7} {}\n", node.name, node.pid, kStopOutcome[outcome[i]]));
    forget_pid(*testnet, node);
  }
  if (testnet->hosts) {
    // The switch writes its statistics as it stops; then every other process
    // in the run's namespaces (origins, load tools) and the namespaces go.
    auto hosts = adopt_hosts(*testnet, out);
    auto removed = hosts->teardown();
    const auto emulator = read_emulator_verdict(*testnet);
    say(out,
        fmt::format("  test hosts of run {} removed{}; {}\n", testnet->hosts->run,
                    removed ? "" : " (" + removed.error().message + ")", emulator_line(emulator)));
    testnet->hosts->switch_pid = 0;
    if (!removed) {
      (void)save_state(*testnet);
      complain(removed.error().message);
      return ExitCode::kFailed;
    }
  }
  if (auto status = save_state(*testnet); !status) {
    complain(status.error().message);
    return ExitCode::kFailed;
  }
  say(out, fmt::format("testnet down; keys, configs and logs stay in {}\n", dir.string()));
  return ExitCode::kOk;
}

namespace {

// Takes an added relay that did not come up out again: stopped if it runs,
// marked removed so its name and port are not reused.
void withdraw_added(Testnet& testnet, TestnetNode& node) {
  (void)stop_node(testnet, node);
  forget_pid(testnet, node);
  node.removed = true;
  (void)save_state(testnet);  // best effort: the node is stopped either way
}

}  // namespace

ExitCode testnet_add_relay(const std::filesystem::path& dir, bool exit, std::FILE* out) {
  auto testnet = load_testnet(dir);
  if (!testnet) {
    complain(testnet.error().message);
    return ExitCode::kNotRunning;
  }
  auto planned = plan_added_relay(*testnet, exit);
  if (!planned) {
    complain(planned.error().message);
    return ExitCode::kUsage;
  }
  const auto before = client_consensus_now(*testnet);
  if (!before) {
    return before.error();
  }
  auto nyxd = find_program("nyxd");
  if (!nyxd) {
    complain(nyxd.error().message + "; build it (cmake --build ... --target nyxd)");
    return ExitCode::kFailed;
  }
  say(out, fmt::format("generating {}'s keys and config in {}\n", planned->name,
                       testnet->node_dir(*planned).string()));
  if (!succeeded(generate_added_relay_files(*testnet, *planned))) {
    return ExitCode::kFailed;
  }
  const auto started = TestnetClock::now();
  testnet->nodes.push_back(std::move(*planned));
  auto& node = testnet->nodes.back();
  if (!succeeded(start_node(*testnet, node, *nyxd))) {
    withdraw_added(*testnet, node);
    return ExitCode::kFailed;
  }
  say(out, node_line(node));
  if (!wait_until_answering(*testnet, node)) {
    say(out, "failed\n");
    withdraw_added(*testnet, node);
    return ExitCode::kFailed;
  }
  say(out, fmt::format("up ({:.1f} s)\n", seconds_since(started)));
  if (!report_client_lists(*testnet, *before, before->nodes + 1, started, out)) {
    complain(fmt::format("{} keeps running; `nyxctl testnet remove {} --dir {}` takes it out",
                         node.name, node.name, testnet->dir.string()));
    return ExitCode::kFailed;
  }
  say(out, fmt::format("{} joined the testnet\n", node.name));
  return ExitCode::kOk;
}

ExitCode testnet_remove(const std::filesystem::path& dir, const std::string& name, std::FILE* out) {
  auto testnet = load_testnet(dir);
  if (!testnet) {
    complain(testnet.error().message);
    return ExitCode::kNotRunning;
  }
  auto index = removable_node(*testnet, name);
  if (!index) {
    complain(index.error().message);
    return ExitCode::kUsage;
  }
  const auto before = client_consensus_now(*testnet);
  if (!before) {
    return before.error();
  }
  const auto started = TestnetClock::now();
  auto& node = testnet->nodes[*index];
  say(out, node_line(node));
  const int outcome = stop_node(*testnet, node);
  forget_pid(*testnet, node);
  node.removed = true;
  if (!succeeded(save_state(*testnet))) {
    say(out, "failed\n");
    return ExitCode::kFailed;
  }
  say(out, fmt::format("{} ({:.1f} s)\n", kStopOutcome[outcome], seconds_since(started)));
  if (!report_client_lists(*testnet, *before, before->nodes - 1, started, out)) {
    return ExitCode::kFailed;
  }
  say(out, fmt::format("{} removed from the testnet\n", node.name));
  return ExitCode::kOk;
}

}  // namespace nyx::cli
