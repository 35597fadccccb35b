#pragma once
// How the testnet commands (cli/testnet.cpp, cli/testnet_watch.cpp) speak:
// progress to `out`, flushed so each step shows as it happens; problems to
// stderr; how long a step has taken; and the line a node's start or stop
// begins with. Free functions, no state.

#include <chrono>
#include <cstdio>
#include <string>

#include "cli/testnet.hpp"

namespace nyx::cli {

// The clock the testnet commands time their steps and deadlines with.
using TestnetClock = std::chrono::steady_clock;

void say(std::FILE* out, const std::string& text);
// "nyxctl: TEXT" on stderr.
void complain(const std::string& text);

double seconds_since(TestnetClock::time_point started);

// A node's progress line up to its outcome, as `up`, `add-relay` and `remove`
// print it.
std::string node_line(const TestnetNode& node);

}  // namespace nyx::cli
