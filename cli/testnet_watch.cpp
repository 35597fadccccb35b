#include "cli/testnet_watch.hpp"

#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/node_connection.hpp"
#include "cli/process.hpp"
#include "cli/testnet_hosts.hpp"

namespace nyx::cli {
namespace {

// How long a node may take to answer node.info, and the client to accept on
// its SOCKS port with an open circuit, before `up` gives up on it.
constexpr auto kStartDeadline = std::chrono::seconds(20);
constexpr auto kReadyDeadline = std::chrono::seconds(30);
// The first consensus is the one of the period after next at the latest
// (uploads close 10 s before a period begins), and every node installs it
// within 10 s of its start.
constexpr auto kConsensusDeadline = std::chrono::seconds(3 * kTestnetPeriodSeconds + 15);
constexpr auto kConsensusPollInterval = std::chrono::milliseconds(500);
constexpr auto kPollInterval = std::chrono::milliseconds(100);

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

ControlPaths control_paths(const Testnet& testnet, const TestnetNode& node) {
  return {testnet.data_dir(node) / kControlSocketName, testnet.data_dir(node) / kControlCookieName};
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

// Waits until the client accepts on its SOCKS port and lists an open
// circuit, so traffic can flow the moment `up` returns; false (with what was
// missing and the client's log) when it exits or the deadline passes.
bool wait_until_ready(const Testnet& testnet, const TestnetNode& client) {
  const auto deadline = TestnetClock::now() + kReadyDeadline;
  bool socks = false;
  bool circuit = false;
  while (TestnetClock::now() < deadline) {
    if (!process_alive(client.pid)) {
      complain(fmt::format("{} exited while building circuits; the end of {}:\n{}", client.name,
                           testnet.log(client).string(), log_tail(testnet.log(client), 15)));
      return false;
    }
    socks = socks || accepts_tcp(client.address, client.socks_port, client_netns(testnet, client));
    if (auto list = ask_node(testnet, client, "circuits.list")) {
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

// What a node holds, for a failure message: "none" or its period and count.
std::string consensus_text(const std::optional<InstalledConsensus>& consensus) {
  return consensus ? fmt::format("period {} with {} relays", consensus->period, consensus->nodes)
                   : "none";
}

// The authorities' logs, which tell why a consensus did not come.
std::string authority_logs(const Testnet& testnet) {
  std::vector<std::string> logs;
  for (const auto& node : testnet.nodes) {
    if (node.is_authority()) {
      logs.push_back(testnet.log(node).string());
    }
  }
  return fmt::format("{}", fmt::join(logs, " "));
}

// Waits until every node has installed a consensus listing every relay;
// false (with what each node holds, or the log of one that exited, printed)
// when a node exits or the deadline passes. The consensus held at the end
// goes to `agreed`.
bool wait_until_consensus(const Testnet& testnet, InstalledConsensus& agreed) {
  const std::size_t relays = testnet.relay_count();
  const auto deadline = TestnetClock::now() + kConsensusDeadline;
  std::vector<std::optional<InstalledConsensus>> held(testnet.nodes.size());
  for (;;) {
    bool complete = true;
    for (std::size_t i = 0; i < testnet.nodes.size(); ++i) {
      const auto& node = testnet.nodes[i];
      if (!process_alive(node.pid)) {
        complain(fmt::format("{} exited while waiting for the consensus; the end of {}:\n{}",
                             node.name, testnet.log(node).string(),
                             log_tail(testnet.log(node), 15)));
        return false;
      }
      auto info = ask_node(testnet, node, "node.info");
      held[i] = info ? installed_consensus(*info) : std::nullopt;
      complete = complete && held[i] && held[i]->nodes == relays;
    }
    if (complete) {
      agreed = *held.front();
      return true;
    }
    if (TestnetClock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(kConsensusPollInterval);
  }
  std::string holdings;
  for (std::size_t i = 0; i < testnet.nodes.size(); ++i) {
    holdings += fmt::format("\n  {}: {}", testnet.nodes[i].name, consensus_text(held[i]));
  }
  complain(
      fmt::format("no consensus of {} relays on every node within {} s; each holds:{}\n"
                  "the authorities' logs tell why: {}",
                  relays, kConsensusDeadline.count(), holdings, authority_logs(testnet)));
  return false;
}

// Waits until the client's consensus lists `relays` relays, into `seen`;
// false (with what the client holds, or its log when it exited, printed)
// when it exits or the deadline passes.
bool wait_until_client_lists(const Testnet& testnet, std::size_t relays, InstalledConsensus& seen) {
  const auto& client = testnet.nodes.front();
  const auto deadline = TestnetClock::now() + kConsensusDeadline;
  std::optional<InstalledConsensus> held;
  while (TestnetClock::now() < deadline) {
    if (!process_alive(client.pid)) {
      complain(fmt::format("{} exited while waiting for the consensus; the end of {}:\n{}",
                           client.name, testnet.log(client).string(),
                           log_tail(testnet.log(client), 15)));
      return false;
    }
    auto info = ask_node(testnet, client, "node.info");
    held = info ? installed_consensus(*info) : std::nullopt;
    if (held && held->nodes == relays) {
      seen = *held;
      return true;
    }
    std::this_thread::sleep_for(kConsensusPollInterval);
  }
  complain(
      fmt::format("the client's consensus did not list {} relays within {} s; {} holds {}\n"
                  "the authorities' logs tell why: {}",
                  relays, kConsensusDeadline.count(), client.name, consensus_text(held),
                  authority_logs(testnet)));
  return false;
}

}  // namespace

bool runs_node(const Testnet& testnet, const TestnetNode& node) {
  if (!process_alive(node.pid)) {
    return false;
  }
  std::ifstream in(fmt::format("/proc/{}/cmdline", node.pid), std::ios::binary);
  const std::string cmdline{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return cmdline.find(testnet.config(node).string()) != std::string::npos;
}

Result<nlohmann::json> ask_node(const Testnet& testnet, const TestnetNode& node,
                                std::string_view method) {
  auto client = open_control(control_paths(testnet, node), std::chrono::seconds(2));
  if (!client) {
    return make_error(ErrorCategory::kClosed, client.error().message);
  }
  return client->call(method);
}

bool wait_until_answering(const Testnet& testnet, const TestnetNode& node) {
  const auto deadline = TestnetClock::now() + kStartDeadline;
  while (TestnetClock::now() < deadline) {
    if (!process_alive(node.pid)) {
      complain(fmt::format("{} exited during start-up; the end of {}:\n{}", node.name,
                           testnet.log(node).string(), log_tail(testnet.log(node), 15)));
      return false;
    }
    if (ask_node(testnet, node, "node.info")) {
      return true;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  complain(fmt::format("{} did not answer on its control socket within {} s; the end of {}:\n{}",
                       node.name, kStartDeadline.count(), testnet.log(node).string(),
                       log_tail(testnet.log(node), 15)));
  return false;
}

std::expected<InstalledConsensus, ExitCode> client_consensus_now(const Testnet& testnet) {
  const auto& client = testnet.nodes.front();
  if (!runs_node(testnet, client)) {
    complain(
        fmt::format("{}, the client, does not run; start the testnet with "
                    "`nyxctl testnet up --dir {}`",
                    client.name, testnet.dir.string()));
    return std::unexpected(ExitCode::kNotRunning);
  }
  auto info = ask_node(testnet, client, "node.info");
  auto consensus = info ? installed_consensus(*info) : std::nullopt;
  if (!consensus) {
    complain(fmt::format("{}, the client, holds no consensus yet; wait until `up` has finished",
                         client.name));
    return std::unexpected(ExitCode::kFailed);
  }
  return *consensus;
}

bool report_client_lists(const Testnet& testnet, const InstalledConsensus& before,
                         std::size_t relays, TestnetClock::time_point started, std::FILE* out) {
  say(out, fmt::format("  waiting for the client's consensus to list {} relays (period {} lists "
                       "{}; up to {} s) ... ",
                       relays, before.period, before.nodes, kConsensusDeadline.count()));
  InstalledConsensus seen;
  if (!wait_until_client_lists(testnet, relays, seen)) {
    say(out, "failed\n");
    return false;
  }
  say(out, fmt::format("period {}, {} relays ({:.1f} s)\n", seen.period, seen.nodes,
                       seconds_since(started)));
  return true;
}

bool wait_for_nodes(const Testnet& testnet, TestnetClock::time_point started, std::FILE* out) {
  for (const auto& node : testnet.nodes) {
    say(out, node_line(node));
    if (!wait_until_answering(testnet, node)) {
      say(out, "failed\n");
      return false;
    }
    say(out, fmt::format("up ({:.1f} s)\n", seconds_since(started)));
  }
  say(out, fmt::format("  waiting for the authorities' first consensus (up to {} s) ... ",
                       kConsensusDeadline.count()));
  InstalledConsensus consensus;
  if (!wait_until_consensus(testnet, consensus)) {
    say(out, "failed\n");
    return false;
  }
  say(out, fmt::format("period {}, {} relays ({:.1f} s)\n", consensus.period, consensus.nodes,
                       seconds_since(started)));
  say(out, "  waiting for the SOCKS5 port and an open circuit ... ");
  if (!wait_until_ready(testnet, testnet.nodes.front())) {
    say(out, "failed\n");
    return false;
  }
  say(out, fmt::format("ready ({:.1f} s)\n", seconds_since(started)));
  return true;
}
}  // namespace nyx::cli
