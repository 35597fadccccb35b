// The pure half of `nyxctl testnet add-relay` and `remove`: the next node's
// name and port, and the refusals (cli/testnet_membership.hpp).
#include "cli/testnet_membership.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

namespace nyx::cli {
namespace {

// The K of "nodeK"; 0 for any other name.
std::size_t member_number(const std::string& name) {
  constexpr std::string_view kPrefix = "node";
  if (!name.starts_with(kPrefix)) {
    return 0;
  }
  std::size_t number = 0;
  const char* last = name.data() + name.size();
  const auto parsed = std::from_chars(name.data() + kPrefix.size(), last, number);
  return parsed.ec == std::errc() && parsed.ptr == last ? number : 0;
}

constexpr const char* kLoopbackOnly =
    "add-relay and remove change a testnet on 127.0.0.1; this one runs on test hosts (--hosts)";

}  // namespace

Result<TestnetNode> plan_added_relay(const Testnet& testnet, bool exit) {
  if (testnet.hosts) {
    return make_error(ErrorCategory::kInvalidArgument, kLoopbackOnly);
  }
  const auto running = static_cast<std::size_t>(std::count_if(
      testnet.nodes.begin(), testnet.nodes.end(), [](const TestnetNode& n) { return !n.removed; }));
  if (running >= kTestnetMaxNodes) {
    return make_error(
        ErrorCategory::kInvalidArgument,
        fmt::format("the testnet already runs {} nodes, the most it may have", kTestnetMaxNodes));
  }
  std::size_t highest_number = 0;
  std::uint32_t highest_port = 0;
  for (const auto& node : testnet.nodes) {
    highest_number = std::max(highest_number, member_number(node.name));
    highest_port = std::max<std::uint32_t>({highest_port, node.udp_port, node.socks_port});
  }
  if (highest_port + 1 > 65535) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("no port left above {} for another node", highest_port));
  }
  TestnetNode node;
  node.name = fmt::format("node{}", highest_number + 1);
  node.roles = exit ? std::vector<std::string>{"relay", "exit"} : std::vector<std::string>{"relay"};
  node.udp_port = static_cast<std::uint16_t>(highest_port + 1);
  return node;
}

Result<std::size_t> removable_node(const Testnet& testnet, const std::string& name) {
  if (testnet.hosts) {
    return make_error(ErrorCategory::kInvalidArgument, kLoopbackOnly);
  }
  const auto found = std::find_if(testnet.nodes.begin(), testnet.nodes.end(),
                                  [&name](const TestnetNode& n) { return n.name == name; });
  if (found == testnet.nodes.end()) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("no node '{}' in the testnet", name));
  }
  const TestnetNode& node = *found;
  if (node.removed) {
    return make_error(ErrorCategory::kInvalidArgument, fmt::format("{} was removed already", name));
  }
  if (node.is_client()) {
    return make_error(
        ErrorCategory::kInvalidArgument,
        fmt::format("{} is the client: the testnet's SOCKS5 port and circuits are its", name));
  }
  if (node.is_authority()) {
    return make_error(
        ErrorCategory::kInvalidArgument,
        fmt::format("{} is a directory authority, and the testnet's authority set is fixed in "
                    "every node's config",
                    name));
  }
  const auto exits = static_cast<std::size_t>(
      std::count_if(testnet.nodes.begin(), testnet.nodes.end(),
                    [](const TestnetNode& n) { return !n.removed && n.is_exit(); }));
  if (node.is_exit() && exits <= 1) {
    return make_error(
        ErrorCategory::kInvalidArgument,
        fmt::format("{} is the last exit; add another with `add-relay --exit` first", name));
  }
  if (node.is_relay() && testnet.relay_count() <= kTestnetMinRelays) {
    return make_error(
        ErrorCategory::kInvalidArgument,
        fmt::format("removing {} would leave fewer than {} relays, too few for a path", name,
                    kTestnetMinRelays));
  }
  return static_cast<std::size_t>(found - testnet.nodes.begin());
}

}  // namespace nyx::cli
