// The testnet's plan and saved state: which nodes a testnet of N has, their
// roles, ports and directories (plan_testnet), and testnet.json, which `up`,
// `add-relay` and `remove` write and `status`, `down` and `exec` read back
// (Testnet::to_json, from_json, load_testnet). No processes and no I/O
// beyond reading the state file: cli/testnet.cpp starts and stops what this
// plans.
#include <algorithm>
#include <fstream>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "cli/node_keys.hpp"
#include "cli/testnet.hpp"
#include "cli/testnet_hosts.hpp"
#include "cli/text_file.hpp"

namespace nyx::cli {
namespace {

std::string quoted(const std::string& text) { return fmt::format("\"{}\"", text); }

bool lists_role(const TestnetNode& node, std::string_view role) {
  return std::find(node.roles.begin(), node.roles.end(), role) != node.roles.end();
}

}  // namespace

const std::vector<std::string>& testnet_exit_policy() {
  static const std::vector<std::string> kRules{"reject *:25", "accept *:*"};
  return kRules;
}

std::optional<InstalledConsensus> installed_consensus(const nlohmann::json& node_info) {
  if (!node_info.is_object() || !node_info.contains("directory")) {
    return std::nullopt;
  }
  const auto& directory = node_info["directory"];
  if (!directory.is_object() || !directory.contains("valid_after") ||
      !directory["valid_after"].is_number_unsigned() || !directory.contains("nodes") ||
      !directory["nodes"].is_number_unsigned()) {
    return std::nullopt;
  }
  return InstalledConsensus{
      .period = directory["valid_after"].get<std::uint64_t>() / kTestnetPeriodSeconds,
      .nodes = directory["nodes"].get<std::size_t>()};
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

bool TestnetNode::is_client() const { return lists_role(*this, "client"); }
bool TestnetNode::is_relay() const { return lists_role(*this, "relay"); }
bool TestnetNode::is_exit() const { return lists_role(*this, "exit"); }
bool TestnetNode::is_authority() const { return lists_role(*this, "authority"); }

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

std::size_t Testnet::relay_count() const {
  return static_cast<std::size_t>(
      std::count_if(nodes.begin(), nodes.end(),
                    [](const TestnetNode& node) { return node.is_relay() && !node.removed; }));
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
    if (node.removed) {
      list.back()["removed"] = true;
    }
  }
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& authority : authorities) {
    listed.push_back({{"name", authority.name},
                      {"key", authority.key},
                      {"link", authority.link},
                      {"address", authority.address},
                      {"tcp_address", authority.tcp_address}});
  }
  nlohmann::json state = {{"dir", dir.string()},
                          {"socks", socks_address()},
                          {"period", kTestnetPeriod},
                          {"authorities", std::move(listed)},
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
      node.removed = entry.value("removed", false);
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
  if (state.contains("authorities") && state["authorities"].is_array()) {
    for (const auto& entry : state["authorities"]) {
      try {
        testnet.authorities.push_back({.name = entry.at("name").get<std::string>(),
                                       .key = entry.at("key").get<std::string>(),
                                       .link = entry.at("link").get<std::string>(),
                                       .address = entry.at("address").get<std::string>(),
                                       .tcp_address = entry.value("tcp_address", std::string())});
      } catch (const nlohmann::json::exception& e) {
        return make_error(ErrorCategory::kParse,
                          fmt::format("testnet state: authorities: {}", e.what()));
      }
    }
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
  // The first relays vote too, as a relay's operator may make it an
  // authority (proposal 0002, section 10.1).
  std::size_t authorities = 0;
  for (auto& node : testnet.nodes) {
    if (node.is_relay() && authorities < kTestnetAuthorities) {
      node.roles.push_back("authority");
      ++authorities;
    }
  }
  return testnet;
}

// Every node of a local testnet reaches the others from 127.0.0.1, so the
// per-address CREATE bucket (3/s after a burst of 90: one client on the
// Internet) would hold all its clients together; test hosts have an address
// each and keep the defaults.
constexpr const char* kSharedAddressAdmission =
    "# Every node here shares 127.0.0.1: room for all of them in one CREATE bucket.\n"
    "create_rate_per_address = 1000.0\n"
    "create_burst_per_address = 2000\n";

namespace {

// The namespace testbed puts every host in 10.77.0.0/24.
constexpr const char* kSharedSubnetPaths =
    "# Every host here is in 10.77.0.0/24: paths may not keep hops apart by /16.\n"
    "distinct_subnets = false\n";

// Every node's [directory]: all the authorities, a majority's signatures,
// and the testnet's short period.
std::string testnet_directory_section(const Testnet& testnet) {
  std::string entries;
  for (const auto& authority : testnet.authorities) {
    entries += "  " +
               authority_entry_line(authority.key, authority.link, authority.address,
                                    authority.tcp_address) +
               "\n";
  }
  return fmt::format(
      "[directory]\n"
      "# Every node lists every authority; a consensus needs a majority's signatures.\n"
      "authorities = [\n{}]\n"
      "threshold = 0\n"
      "# The shortest period nyxd accepts, so the first consensus comes within two.\n"
      "period = \"{}\"\n"
      "clock_skew = \"{}\"\n",
      entries, kTestnetPeriod, kTestnetClockSkew);
}

}  // namespace

std::string node_config_text(const Testnet& testnet, const TestnetNode& node) {
  std::vector<std::string> roles;
  for (const auto& role : node.roles) {
    roles.push_back(quoted(role));
  }
  const std::string address = fmt::format("{}:{}", node.address, node.udp_port);
  std::string text = fmt::format(
      "# {} of the {} testnet made by `nyxctl testnet up`; stop it with "
      "`nyxctl testnet down --dir {}`.\n"
      "[node]\n"
      "data_dir = \"data\"\n"
      "nickname = \"{}\"\n"
      "roles = [{}]\n"
      "# The testnet shares a machine: one worker each.\n"
      "workers = 1\n\n"
      "{}\n"
      "[transport]\n"
      "udp_listen = \"{}\"\n"
      "{}\n"
      "[mix]\n"
      "cover_rate = 0.0\n"
      "{}\n"
      "[shutdown]\n"
      "drain_deadline = \"2s\"\n",
      node.name, testnet.hosts ? "WAN" : "local", testnet.dir.string(), node.name,
      fmt::join(roles, ", "), testnet_directory_section(testnet), address,
      node.is_relay() ? fmt::format("tcp_listen = \"{}\"\n", address) : "",
      testnet.hosts ? kSharedSubnetPaths : kSharedAddressAdmission);
  if (node.is_client()) {
    text += fmt::format("\n[socks]\nlisten = \"{}:{}\"\n", node.address, node.socks_port);
    if (testnet.hosts) {
      // The client's host is a namespace only the test's programs reach.
      text += "allow_remote_clients = true\n";
    }
  }
  if (!testnet.congestion.empty()) {
    text += fmt::format("\n[stream]\ncongestion = \"{}\"\n", testnet.congestion);
  }
  if (node.is_relay()) {
    // A loopback or testbed address is not global: advertise it explicitly.
    text += fmt::format("\n[relay]\nadvertise_udp = \"{}\"\nadvertise_tcp = \"{}\"\n", address,
                        address);
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
        "allow_private = true\n"
        "advertise = [" +
        policy_text + "]\n";
  }
  if (node.is_authority()) {
    text += fmt::format(
        "\n[authority]\n"
        "# The relays advertise private addresses; on 127.0.0.1 all at one address,\n"
        "# as many as the testnet may grow to with `nyxctl testnet add-relay`.\n"
        "allow_private_addresses = true\n"
        "max_relays_per_address = {}\n",
        kTestnetMaxNodes);
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

}  // namespace nyx::cli
