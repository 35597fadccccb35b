#include "cli/testnet.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
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
#include "cli/testnet_hosts.hpp"
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

// Whether something accepts TCP connections on address:port, seen from
// network namespace `netns` (empty: this one). A namespace is entered by a
// thread of its own, so this thread's sockets stay where they are.
bool accepts_tcp(const std::string& host, std::uint16_t port, const std::string& netns) {
  const auto attempt = [&host, port] {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return false;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &address.sin_addr);
    const bool connected =
        ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
  };
  if (netns.empty()) {
    return attempt();
  }
  bool connected = false;
  std::thread([&] { connected = enter_namespace(netns) && attempt(); }).join();
  return connected;
}

std::string client_netns(const Testnet& testnet, const TestnetNode& client) {
  return testnet.hosts ? host_namespace(testnet.hosts->run, client.host) : std::string();
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
  // One clock for every descriptor and the directory, so none is published
  // after the directory's valid_after.
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
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
    descriptor.udp_address = fmt::format("{}:{}", node.address, node.udp_port);
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
    // The operator's path (docs/operators.md): the node signs its descriptor
    // (nyxctl keygen --sign-descriptor), and the directory lists what reads
    // back from descriptor.bin and verifies, as nyxctl directory sign does.
    auto signed_descriptor = sign_descriptor(descriptor, testnet.data_dir(node), now);
    if (!signed_descriptor) {
      return make_error(signed_descriptor.error().category,
                        fmt::format("{}: signing its descriptor: {}", node.name,
                                    signed_descriptor.error().message),
                        signed_descriptor.error().code);
    }
    const auto signed_file = testnet.node_dir(node) / kSignedDescriptorName;
    if (auto status = write_signed_descriptor_file(signed_file, *signed_descriptor); !status) {
      return make_error(
          status.error().category,
          fmt::format("{}: writing its signed descriptor: {}", node.name, status.error().message),
          status.error().code);
    }
    auto verified = read_signed_descriptor_file(signed_file);
    if (!verified) {
      return make_error(verified.error().category,
                        fmt::format("{}: reading back its signed descriptor: {}", node.name,
                                    verified.error().message),
                        verified.error().code);
    }
    listed.push_back(verified->listing());
  }
  auto directory = sign_directory(std::move(listed), {&*authority}, kDirectoryValidity, now);
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
    socks = socks || accepts_tcp(client.address, client.socks_port, client_netns(testnet, client));
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

std::string Testnet::socks_address() const {
  for (const auto& node : nodes) {
    if (node.is_client()) {
      return fmt::format("{}:{}", node.address, node.socks_port);
    }
  }
  return {};
}

nlohmann::json TestnetLinks::to_json() const {
  return {{"delay_ms", delay_ms},   {"jitter_ms", jitter_ms}, {"loss_pct", loss_pct},
          {"rate_mbit", rate_mbit}, {"queue_ms", queue_ms},   {"seed", seed},
          {"tcp_path", tcp_path}};
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
                    {"address", node.address},
                    {"host", node.host},
                    {"udp_port", node.udp_port},
                    {"socks_port", node.socks_port},
                    {"pid", node.pid},
                    {"config", config(node).string()},
                    {"data_dir", data_dir(node).string()},
                    {"log", log(node).string()}});
  }
  nlohmann::json state = {{"dir", dir.string()},
                          {"directory", directory_file().string()},
                          {"socks", socks_address()},
                          {"nodes", std::move(list)}};
  if (!congestion.empty()) {
    state["congestion"] = congestion;
  }
  if (hosts) {
    state["hosts"] = {{"run", hosts->run},
                      {"switch_pid", hosts->switch_pid},
                      {"names", hosts->names},
                      {"links", hosts->links.to_json()}};
  }
  return state;
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
      node.address = entry.value("address", std::string("127.0.0.1"));
      node.host = entry.value("host", std::string());
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
  testnet.congestion = state.value("congestion", std::string());
  if (state.contains("hosts") && state["hosts"].is_object()) {
    TestnetHosts hosts;
    try {
      const auto& h = state["hosts"];
      hosts.run = h.at("run").get<std::string>();
      hosts.switch_pid = h.at("switch_pid").get<pid_t>();
      hosts.names = h.at("names").get<std::vector<std::string>>();
      const auto& l = h.at("links");
      hosts.links.delay_ms = l.at("delay_ms").get<double>();
      hosts.links.jitter_ms = l.at("jitter_ms").get<double>();
      hosts.links.loss_pct = l.at("loss_pct").get<double>();
      hosts.links.rate_mbit = l.at("rate_mbit").get<double>();
      hosts.links.queue_ms = l.at("queue_ms").get<double>();
      hosts.links.seed = l.at("seed").get<std::uint64_t>();
      hosts.links.tcp_path = l.at("tcp_path").get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception& e) {
      return make_error(ErrorCategory::kParse, fmt::format("testnet state: hosts: {}", e.what()));
    }
    // The run id becomes namespace names: only what new_run_id makes.
    if (hosts.run.size() != 8 ||
        hosts.run.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return make_error(ErrorCategory::kParse,
                        fmt::format("testnet state: bad run id '{}'", hosts.run));
    }
    testnet.hosts = std::move(hosts);
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
  testnet.congestion = options.congestion;
  std::vector<TestHost> hosts;
  if (options.hosts) {
    hosts = standard_test_hosts(static_cast<int>(options.nodes));
    testnet.hosts = TestnetHosts{};
    testnet.hosts->links = options.links;
    for (const auto& h : hosts) {
      testnet.hosts->names.push_back(h.name);
    }
  }
  for (std::size_t k = 1; k <= options.nodes; ++k) {
    TestnetNode node;
    node.name = fmt::format("node{}", k);
    node.udp_port = static_cast<std::uint16_t>(options.base_port + k - 1);
    if (options.hosts) {
      node.host = hosts[k - 1].name;
      node.address = host_address(static_cast<int>(k));
      node.udp_port = kHostLinkPort;
    }
    if (k == 1) {
      node.roles = {"client"};
      node.socks_port = options.hosts
                            ? kHostSocksPort
                            : static_cast<std::uint16_t>(options.base_port + options.nodes);
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
      "# {} of the {} testnet made by `nyxctl testnet up`; stop it with "
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
      "udp_listen = \"{}:{}\"\n\n"
      "[mix]\n"
      "cover_rate = 0.0\n\n"
      "[shutdown]\n"
      "drain_deadline = \"2s\"\n",
      node.name, testnet.hosts ? "WAN" : "local", testnet.dir.string(), node.name,
      fmt::join(roles, ", "), authority_hex, node.address, node.udp_port);
  if (node.is_client()) {
    text += fmt::format("\n[socks]\nlisten = \"{}:{}\"\n", node.address, node.socks_port);
  }
  if (!testnet.congestion.empty()) {
    text += fmt::format("\n[stream]\ncongestion = \"{}\"\n", testnet.congestion);
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
        "# The testnet's origins are on 127.0.0.1 or 10.77.0.0/24: private addresses.\n"
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
    // A stopped testnet of ours: start afresh (new keys, new directory), and
    // remove what may be left of its test hosts.
    if (previous->hosts) {
      (void)adopt_hosts(*previous, out)->teardown();
    }
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
  // The test hosts, the switch and the routes; on any failure below, `hosts`
  // going out of scope removes them again (and the processes in them).
  std::unique_ptr<TestHosts> hosts;
  if (testnet.hosts) {
    say(out,
        fmt::format("making {} test hosts and the link emulator (delay {} ms, jitter {} ms, "
                    "loss {} %, client rate {} Mbit/s, queue {} ms)\n",
                    testnet.hosts->names.size(), options.links.delay_ms, options.links.jitter_ms,
                    options.links.loss_pct, options.links.rate_mbit, options.links.queue_ms));
    auto made = TestHosts::create(
        test_hosts_of(testnet),
        {.dir = testnet.dir, .nyxctl = {}, .verbose = options.verbose, .out = out});
    if (!made) {
      complain(made.error().message);
      return ExitCode::kFailed;
    }
    hosts = std::move(*made);
    testnet.hosts->run = hosts->run();
    if (auto status = save_state(testnet); !status) {
      complain(status.error().message);
      return ExitCode::kFailed;
    }
    const auto config = emulator_config(*hosts, testnet.hosts->links);
    if (auto status = hosts->start_switch(config); !status) {
      complain(status.error().message);
      return ExitCode::kFailed;
    }
    testnet.hosts->switch_pid = hosts->switch_pid();
    if (auto status = hosts->route_through(testnet.hosts->links.tcp_path); !status) {
      complain(status.error().message);
      return ExitCode::kFailed;
    }
    if (auto status = save_state(testnet); !status) {
      complain(status.error().message);
      return ExitCode::kFailed;
    }
  }
  for (auto& node : testnet.nodes) {
    std::vector<std::string> argv{nyxd->string(), "--config", testnet.config(node).string()};
    if (testnet.hosts) {
      argv = host_command(testnet.hosts->run, node.host, argv);
    }
    auto pid = spawn_background(argv, testnet.log(node));
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
    say(out, fmt::format("  {:<7} {:<12} pid {:<7} udp {}:{} ... ", node.name,
                         fmt::format("{}", fmt::join(node.roles, ",")), node.pid, node.address,
                         node.udp_port));
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

  if (hosts) {
    if (auto status = hosts->release(); !status) {
      complain(status.error().message);
      stop_started(testnet, out);
      return ExitCode::kFailed;
    }
    (void)save_state(testnet);
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
    return ExitCode::kOk;
  }
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
    say(out, fmt::format("testnet {} — {} of {} nodes alive, SOCKS5 at {}\n", dir.string(),
                         alive_count, testnet->nodes.size(), testnet->socks_address()));
    if (testnet->hosts) {
      say(out,
          fmt::format("test hosts: run {}, {}\n", testnet->hosts->run, emulator_line(emulator)));
    }
    say(out, "\n" + table.render());
  }
  return alive_count == testnet->nodes.size() ? ExitCode::kOk
         : alive_count == 0                   ? ExitCode::kNotRunning
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

}  // namespace nyx::cli
