#include "cli/testnet.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <system_error>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/descriptor_file.hpp"
#include "cli/directory_tool.hpp"
#include "cli/node_keys.hpp"
#include "cli/process.hpp"
#include "cli/table.hpp"
#include "cli/text_file.hpp"
#include "core/crypto/encoding.hpp"

namespace nyx::cli {
namespace {

using Clock = std::chrono::steady_clock;

// How long a node may take to answer node.info, and the client to accept on
// its SOCKS port with an open circuit, before `up` gives up on it.
constexpr auto kStartDeadline = std::chrono::seconds(20);
constexpr auto kReadyDeadline = std::chrono::seconds(30);
// nyxd drains for its configured deadline (2 s here) before exiting.
constexpr auto kStopGrace = std::chrono::milliseconds(8000);
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kDirectoryValidity = std::chrono::hours(24 * 7);

void say(std::FILE* out, const std::string& text) {
  std::fputs(text.c_str(), out);
  std::fflush(out);
}

void complain(const std::string& text) { std::fprintf(stderr, "nyxctl: %s\n", text.c_str()); }

std::string quoted(const std::string& text) { return fmt::format("\"{}\"", text); }

// The last lines of a node's log, to show why it did not come up.
std::string log_tail(const std::filesystem::path& log, std::size_t lines) {
  std::ifstream in(log);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) {
    all.push_back(std::move(line));
  }
  const std::size_t first = all.size() > lines ? all.size() - lines : 0;
  std::string out;
  for (std::size_t i = first; i < all.size(); ++i) {
    out += "    " + all[i] + "\n";
  }
  return out;
}

Status save_state(const Testnet& testnet) {
  return write_text_file(testnet.state_file(), testnet.to_json().dump(2) + "\n");
}

// Whether `pid` is still the nyxd of this node (and not a recycled pid).
bool runs_node(const Testnet& testnet, const TestnetNode& node) {
  if (!process_alive(node.pid)) {
    return false;
  }
  std::ifstream in(fmt::format("/proc/{}/cmdline", node.pid), std::ios::binary);
  const std::string cmdline{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return cmdline.find(testnet.config(node).string()) != std::string::npos;
}

ControlPaths control_paths(const Testnet& testnet, const TestnetNode& node) {
  return {testnet.data_dir(node) / kControlSocketName, testnet.data_dir(node) / kControlCookieName};
}

// One call on a fresh control connection; a short timeout keeps status quick.
Result<nlohmann::json> ask(const Testnet& testnet, const TestnetNode& node,
                           std::string_view method) {
  auto client = open_control(control_paths(testnet, node), std::chrono::seconds(2));
  if (!client) {
    return make_error(ErrorCategory::kClosed, client.error().message);
  }
  return client->call(method);
}

// Whether something accepts TCP connections on 127.0.0.1:port.
bool accepts_tcp(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

void stop_started(Testnet& testnet, std::FILE* out) {
  for (auto& node : testnet.nodes) {
    if (node.pid != 0 && runs_node(testnet, node)) {
      stop_process(node.pid, kStopGrace);
    }
    std::error_code ec;
    std::filesystem::remove(testnet.pid_file(node), ec);
    node.pid = 0;
  }
  (void)save_state(testnet);  // best effort: the nodes are stopped either way
  say(out, "stopped the nodes that had started\n");
}

// Generates keys, descriptors, configs and the signed directory.
Status generate(const Testnet& testnet) {
  if (auto status = make_private_dir(testnet.dir); !status) {
    return status;
  }
  auto authority_public = generate_authority_key(testnet.authority_key());
  if (!authority_public) {
    return std::unexpected(std::move(authority_public.error()));
  }
  auto authority = load_authority_key(testnet.authority_key());
  if (!authority) {
    return std::unexpected(std::move(authority.error()));
  }
  const std::string authority_hex = crypto::to_hex(*authority_public);
  std::vector<document::NodeDescriptor> listed;
  for (const auto& node : testnet.nodes) {
    if (auto status = make_private_dir(testnet.node_dir(node)); !status) {
      return status;
    }
    auto keys = generate_node_keys(testnet.data_dir(node));
    if (!keys) {
      return std::unexpected(std::move(keys.error()));
    }
    if (auto status =
            write_text_file(testnet.config(node), node_config_text(testnet, node, authority_hex));
        !status) {
      return status;
    }
    if (node.is_client()) {
      continue;  // a client builds circuits; it relays for nobody, so it is not listed
    }
    document::NodeDescriptor descriptor;
    descriptor.identity_key = keys->identity;
    descriptor.link_key = keys->link;
    descriptor.onion_key = keys->onion;
    descriptor.onion_key_epoch = keys->onion_epoch;
    descriptor.udp_address = fmt::format("127.0.0.1:{}", node.udp_port);
    descriptor.roles =
        node.is_exit() ? (document::kRoleRelay | document::kRoleExit) : document::kRoleRelay;
    descriptor.bandwidth_weight = 100;
    if (node.is_exit()) {
      descriptor.exit_rules = *document::AdvertisedExitRules::parse(testnet_exit_policy());
    }
    if (auto status = write_descriptor_file(testnet.node_dir(node) / "descriptor.toml", descriptor);
        !status) {
      return status;
    }
    listed.push_back(std::move(descriptor));
  }
  auto directory = sign_directory(std::move(listed), {&*authority}, kDirectoryValidity,
                                  static_cast<std::uint64_t>(std::time(nullptr)));
  if (!directory) {
    return std::unexpected(std::move(directory.error()));
  }
  auto encoded = directory->encode();
  if (!encoded) {
    return std::unexpected(std::move(encoded.error()));
  }
  return write_text_file(
      testnet.directory_file(),
      std::string_view(reinterpret_cast<const char*>(encoded->data()), encoded->size()));
}

// Waits until `node` answers node.info; false (with the reason printed) when
// it exits or the deadline passes.
bool wait_until_answering(const Testnet& testnet, const TestnetNode& node) {
  const auto deadline = Clock::now() + kStartDeadline;
  while (Clock::now() < deadline) {
    if (!process_alive(node.pid)) {
      complain(fmt::format("{} exited during start-up; the end of {}:\n{}", node.name,
                           testnet.log(node).string(), log_tail(testnet.log(node), 15)));
      return false;
    }
    if (ask(testnet, node, "node.info")) {
      return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  complain(fmt::format("{} did not answer on its control socket within {} s; the end of {}:\n{}",
                       node.name, kStartDeadline.count(), testnet.log(node).string(),
                       log_tail(testnet.log(node), 15)));
  return false;
}

// Waits until the client accepts on its SOCKS port and lists an open
// circuit, so traffic can flow the moment `up` returns; false (with what was
// missing and the client's log) when it exits or the deadline passes.
bool wait_until_ready(const Testnet& testnet, const TestnetNode& client) {
  const auto deadline = Clock::now() + kReadyDeadline;
  bool socks = false;
  bool circuit = false;
  while (Clock::now() < deadline) {
    if (!process_alive(client.pid)) {
      complain(fmt::format("{} exited while building circuits; the end of {}:\n{}", client.name,
                           testnet.log(client).string(), log_tail(testnet.log(client), 15)));
      return false;
    }
    socks = socks || accepts_tcp(client.socks_port);
    if (auto list = ask(testnet, client, "circuits.list")) {
      circuit = open_circuit_count(*list) > 0;
    }
    if (socks && circuit) {
      return true;
    }
    std::this_thread::sleep_for(kPollInterval * 2);
  }
  complain(
      fmt::format("within {} s {} {}; the end of {}:\n{}", kReadyDeadline.count(),
                  socks ? "the SOCKS5 port accepted, but" : "the SOCKS5 port did not accept and",
                  circuit ? "a circuit opened" : "no circuit opened", testnet.log(client).string(),
                  log_tail(testnet.log(client), 15)));
  return false;
}

}  // namespace

const std::vector<std::string>& testnet_exit_policy() {
  static const std::vector<std::string> kRules{"reject *:25", "accept *:*"};
  return kRules;
}

std::size_t open_circuit_count(const nlohmann::json& circuits_list) {
  if (!circuits_list.is_object() || !circuits_list.contains("circuits") ||
      !circuits_list["circuits"].is_array()) {
    return 0;
  }
  const auto& circuits = circuits_list["circuits"];
  return static_cast<std::size_t>(
      std::count_if(circuits.begin(), circuits.end(), [](const nlohmann::json& circuit) {
        return circuit.is_object() && circuit.contains("state") && circuit["state"] == "open";
      }));
}

bool TestnetNode::is_client() const {
  return std::find(roles.begin(), roles.end(), "client") != roles.end();
}

bool TestnetNode::is_exit() const {
  return std::find(roles.begin(), roles.end(), "exit") != roles.end();
}

std::filesystem::path Testnet::config(const TestnetNode& node) const {
  return node_dir(node) / "nyxd.toml";
}
std::filesystem::path Testnet::data_dir(const TestnetNode& node) const {
  return node_dir(node) / "data";
}
std::filesystem::path Testnet::log(const TestnetNode& node) const {
  return node_dir(node) / "nyxd.log";
}
std::filesystem::path Testnet::pid_file(const TestnetNode& node) const {
  return node_dir(node) / "nyxd.pid";
}

std::uint16_t Testnet::socks_port() const {
  for (const auto& node : nodes) {
    if (node.is_client()) {
      return node.socks_port;
    }
  }
  return 0;
}

nlohmann::json Testnet::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& node : nodes) {
    list.push_back({{"name", node.name},
                    {"roles", node.roles},
                    {"udp_port", node.udp_port},
                    {"socks_port", node.socks_port},
                    {"pid", node.pid},
                    {"config", config(node).string()},
                    {"data_dir", data_dir(node).string()},
                    {"log", log(node).string()}});
  }
  return {{"dir", dir.string()},
          {"directory", directory_file().string()},
          {"socks", fmt::format("127.0.0.1:{}", socks_port())},
          {"nodes", std::move(list)}};
}

Result<Testnet> Testnet::from_json(const nlohmann::json& state, std::filesystem::path dir) {
  Testnet testnet;
  testnet.dir = std::move(dir);
  if (!state.is_object() || !state.contains("nodes") || !state["nodes"].is_array()) {
    return make_error(ErrorCategory::kParse, "testnet state: no node list");
  }
  for (const auto& entry : state["nodes"]) {
    TestnetNode node;
    try {
      node.name = entry.at("name").get<std::string>();
      node.roles = entry.at("roles").get<std::vector<std::string>>();
      node.udp_port = entry.at("udp_port").get<std::uint16_t>();
      node.socks_port = entry.at("socks_port").get<std::uint16_t>();
      node.pid = entry.at("pid").get<pid_t>();
    } catch (const nlohmann::json::exception& e) {
      return make_error(ErrorCategory::kParse, fmt::format("testnet state: {}", e.what()));
    }
    // Names become paths: only what plan_testnet makes.
    if (!node.name.starts_with("node") || node.name.find('/') != std::string::npos) {
      return make_error(ErrorCategory::kParse,
                        fmt::format("testnet state: bad node name '{}'", node.name));
    }
    testnet.nodes.push_back(std::move(node));
  }
  return testnet;
}

Result<Testnet> plan_testnet(const TestnetOptions& options) {
  if (options.nodes < kTestnetMinNodes || options.nodes > kTestnetMaxNodes) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("--nodes must be between {} and {} (a client, at least three "
                                  "relays and an exit)",
                                  kTestnetMinNodes, kTestnetMaxNodes));
  }
  if (options.base_port < 1024 ||
      static_cast<std::size_t>(options.base_port) + options.nodes > 65535) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("--base-port must be at least 1024 and leave room for {} ports",
                                  options.nodes + 1));
  }
  Testnet testnet;
  testnet.dir = options.dir;
  for (std::size_t k = 1; k <= options.nodes; ++k) {
    TestnetNode node;
    node.name = fmt::format("node{}", k);
    node.udp_port = static_cast<std::uint16_t>(options.base_port + k - 1);
    if (k == 1) {
      node.roles = {"client"};
      node.socks_port = static_cast<std::uint16_t>(options.base_port + options.nodes);
    } else if (k == options.nodes) {
      node.roles = {"relay", "exit"};
    } else {
      node.roles = {"relay"};
    }
    testnet.nodes.push_back(std::move(node));
  }
  return testnet;
}

std::string node_config_text(const Testnet& testnet, const TestnetNode& node,
                             const std::string& authority_hex) {
  std::vector<std::string> roles;
  for (const auto& role : node.roles) {
    roles.push_back(quoted(role));
  }
  std::string text = fmt::format(
      "# {} of the local testnet made by `nyxctl testnet up`; stop it with "
      "`nyxctl testnet down --dir {}`.\n"
      "[node]\n"
      "data_dir = \"data\"\n"
      "nickname = \"{}\"\n"
      "roles = [{}]\n"
      "# The testnet shares a machine: one worker each.\n"
      "workers = 1\n\n"
      "[directory]\n"
      "file = \"../directory.bin\"\n"
      "authorities = [\"{}\"]\n"
      "threshold = 1\n\n"
      "[transport]\n"
      "udp_listen = \"127.0.0.1:{}\"\n\n"
      "[mix]\n"
      "cover_rate = 0.0\n\n"
      "[shutdown]\n"
      "drain_deadline = \"2s\"\n",
      node.name, testnet.dir.string(), node.name, fmt::join(roles, ", "), authority_hex,
      node.udp_port);
  if (node.is_client()) {
    text += fmt::format("\n[socks]\nlisten = \"127.0.0.1:{}\"\n", node.socks_port);
  }
  if (node.is_exit()) {
    std::vector<std::string> rules;
    for (const auto& rule : testnet_exit_policy()) {
      rules.push_back(quoted(rule));
    }
    const std::string policy_text = fmt::format("{}", fmt::join(rules, ", "));
    text +=
        "\n[exit]\n"
        "# Port 25 rejected, as most exits do, so a policy refusal can be tried.\n"
        "policy = [" +
        policy_text +
        "]\n"
        "# Everything in the testnet is on 127.0.0.1, so the exit must reach it.\n"
        "allow_private = true\n";
  }
  return text;
}

Result<Testnet> load_testnet(const std::filesystem::path& given) {
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::absolute(given, ec).lexically_normal();
  std::ifstream in(dir / "testnet.json");
  if (!in) {
    return make_error(ErrorCategory::kNotFound,
                      fmt::format("no testnet in {} (no testnet.json); start one with "
                                  "`nyxctl testnet up --dir {}`",
                                  dir.string(), dir.string()));
  }
  const auto state = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (state.is_discarded()) {
    return make_error(ErrorCategory::kParse,
                      fmt::format("{} is not valid JSON", (dir / "testnet.json").string()));
  }
  return Testnet::from_json(state, dir);
}

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
  if (auto previous = load_testnet(testnet.dir)) {
    for (const auto& node : previous->nodes) {
      if (runs_node(*previous, node)) {
        complain(
            fmt::format("a testnet is already running in {} ({} is pid {}); stop it with "
                        "`nyxctl testnet down --dir {}`",
                        testnet.dir.string(), node.name, node.pid, testnet.dir.string()));
        return ExitCode::kFailed;
      }
    }
    // A stopped testnet of ours: start afresh (new keys, new directory).
    std::filesystem::remove_all(testnet.dir, ec);
  } else if (std::filesystem::exists(testnet.dir, ec) &&
             !std::filesystem::is_empty(testnet.dir, ec)) {
    complain(
        fmt::format("{} exists and holds no testnet; choose another --dir", testnet.dir.string()));
    return ExitCode::kFailed;
  }

  say(out, fmt::format("generating an authority key, {} node keys, configs and a signed "
                       "directory in {}\n",
                       testnet.nodes.size(), testnet.dir.string()));
  if (auto status = generate(testnet); !status) {
    complain(status.error().message);
    return ExitCode::kFailed;
  }
  if (auto status = save_state(testnet); !status) {
    complain(status.error().message);
    return ExitCode::kFailed;
  }

  const auto started = Clock::now();
  for (auto& node : testnet.nodes) {
    auto pid = spawn_background({nyxd->string(), "--config", testnet.config(node).string()},
                                testnet.log(node));
    if (!pid) {
      complain(pid.error().message);
      stop_started(testnet, out);
      return ExitCode::kFailed;
    }
    node.pid = *pid;
    (void)write_text_file(testnet.pid_file(node), fmt::format("{}\n", node.pid));
    if (auto status = save_state(testnet); !status) {
      complain(status.error().message);
      stop_started(testnet, out);
      return ExitCode::kFailed;
    }
  }
  for (auto& node : testnet.nodes) {
    say(out, fmt::format("  {:<7} {:<12} pid {:<7} udp 127.0.0.1:{} ... ", node.name,
                         fmt::format("{}", fmt::join(node.roles, ",")), node.pid, node.udp_port));
    if (!wait_until_answering(testnet, node)) {
      say(out, "failed\n");
      stop_started(testnet, out);
      return ExitCode::kFailed;
    }
    say(out, fmt::format("up ({:.1f} s)\n",
                         std::chrono::duration<double>(Clock::now() - started).count()));
  }

  const TestnetNode& client = testnet.nodes.front();
  say(out, "  waiting for the SOCKS5 port and an open circuit ... ");
  if (!wait_until_ready(testnet, client)) {
    say(out, "failed\n");
    stop_started(testnet, out);
    return ExitCode::kFailed;
  }
  say(out, fmt::format("ready ({:.1f} s)\n",
                       std::chrono::duration<double>(Clock::now() - started).count()));

  const std::string socks = fmt::format("127.0.0.1:{}", testnet.socks_port());
  say(out, fmt::format("\ntestnet up: {} nodes, SOCKS5 at {}\n\n"
                       "  curl --socks5-hostname {} http://127.0.0.1:8000/\n\n"
                       "  nyxctl status --data-dir {}\n"
                       "  nyxctl testnet status --dir {}\n"
                       "  nyxctl testnet down --dir {}\n",
                       testnet.nodes.size(), socks, socks, testnet.data_dir(client).string(),
                       testnet.dir.string(), testnet.dir.string()));
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
  for (const auto& node : testnet->nodes) {
    const bool alive = runs_node(*testnet, node);
    alive_count += alive ? 1 : 0;
    nlohmann::json entry = {{"name", node.name},
                            {"roles", node.roles},
                            {"pid", node.pid},
                            {"alive", alive},
                            {"control", false}};
    std::string uptime = "-";
    std::string peers_up = "-";
    std::string circuits = "-";
    if (alive) {
      if (auto info = ask(*testnet, node, "node.info")) {
        entry["control"] = true;
        entry["uptime_seconds"] = info->value("uptime_seconds", 0);
        uptime = format_uptime(info->value("uptime_seconds", std::uint64_t{0}));
      }
      if (auto peers = ask(*testnet, node, "peers.list"); peers && peers->is_array()) {
        const auto up = static_cast<std::size_t>(
            std::count_if(peers->begin(), peers->end(),
                          [](const nlohmann::json& p) { return p.value("up", false); }));
        entry["peers_up"] = up;
        peers_up = fmt::format("{}/{}", up, peers->size());
      }
      if (auto list = ask(*testnet, node, "circuits.list"); list && list->is_object()) {
        // A client counts the circuits it built, a relay those passing through it.
        const std::size_t count = list->contains("circuits") && (*list)["circuits"].is_array()
                                      ? (*list)["circuits"].size()
                                      : 0;
        const std::size_t relayed =
            list->contains("relayed") && (*list)["relayed"].is_number_unsigned()
                ? (*list)["relayed"].get<std::size_t>()
                : 0;
        entry["circuits"] = count;
        entry["relayed"] = relayed;
        circuits = fmt::format("{}/{}", count, relayed);
      }
    }
    table.add_row({node.name, fmt::format("{}", fmt::join(node.roles, ",")),
                   node.pid != 0 ? fmt::format("{}", node.pid) : "-", alive ? "yes" : "no",
                   entry["control"].get<bool>() ? "ok" : "-", uptime, peers_up, circuits});
    report.push_back(std::move(entry));
  }
  if (json) {
    say(out, nlohmann::json{{"dir", dir.string()},
                            {"socks", fmt::format("127.0.0.1:{}", testnet->socks_port())},
                            {"nodes", report}}
                     .dump(2) +
                 "\n");
  } else {
    say(out,
        fmt::format("testnet {} — {} of {} nodes alive, SOCKS5 at 127.0.0.1:{}\n\n{}", dir.string(),
                    alive_count, testnet->nodes.size(), testnet->socks_port(), table.render()));
  }
  return alive_count == testnet->nodes.size() ? ExitCode::kOk
         : alive_count == 0                   ? ExitCode::kNotRunning
                                              : ExitCode::kFailed;
}

ExitCode testnet_down(const std::filesystem::path& dir, std::FILE* out) {
  auto testnet = load_testnet(dir);
  if (!testnet) {
    complain(testnet.error().message);
    return ExitCode::kNotRunning;
  }
  // Signal every node first so they drain in parallel, then wait for each.
  std::vector<std::thread> stoppers;
  std::vector<int> outcome(testnet->nodes.size(), 0);  // 0 not running, 1 stopped, 2 killed
  for (std::size_t i = 0; i < testnet->nodes.size(); ++i) {
    const auto& node = testnet->nodes[i];
    if (node.pid == 0 || !runs_node(*testnet, node)) {
      continue;
    }
    stoppers.emplace_back(
        [&outcome, i, pid = node.pid] { outcome[i] = stop_process(pid, kStopGrace) ? 1 : 2; });
  }
  for (auto& stopper : stoppers) {
    stopper.join();
  }
  for (std::size_t i = 0; i < testnet->nodes.size(); ++i) {
    auto& node = testnet->nodes[i];
    static constexpr const char* kOutcome[] = {"was not running", "stopped",
                                               "killed (SIGKILL after the grace period)"};
    say(out, fmt::format("  {:<7} pid {:<7} {}\n", node.name, node.pid, kOutcome[outcome[i]]));
    std::error_code ec;
    std::filesystem::remove(testnet->pid_file(node), ec);
    node.pid = 0;
  }
  if (auto status = save_state(*testnet); !status) {
    complain(status.error().message);
    return ExitCode::kFailed;
  }
  say(out, fmt::format("testnet down; keys, configs and logs stay in {}\n", dir.string()));
  return ExitCode::kOk;
}

}  // namespace nyx::cli
