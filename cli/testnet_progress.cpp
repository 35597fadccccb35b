#include "cli/testnet_progress.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nyx::cli {

void say(std::FILE* out, const std::string& text) {
  std::fputs(text.c_str(), out);
  std::fflush(out);
}

void complain(const std::string& text) { std::fprintf(stderr, "nyxctl: %s\n", text.c_str()); }

double seconds_since(TestnetClock::time_point started) {
  return std::chrono::duration<double>(TestnetClock::now() - started).count();
}

std::string node_line(const TestnetNode& node) {
  return fmt::format("  {:<7} {:<12} pid {:<7} udp {}:{} ... ", node.name,
                     fmt::format("{}", fmt::join(node.roles, ",")), node.pid, node.address,
                     node.udp_port);
}

}  // namespace nyx::cli
