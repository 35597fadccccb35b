#pragma once
// Child processes for the CLI: finding nyxd (next to the nyxctl binary, in a
// build tree's daemon/ beside cli/, then on PATH), running it to completion (nyxctl config check),
// starting it in the background with its output in a log file (nyxctl testnet up), and stopping it
// (SIGTERM, then SIGKILL after a deadline).
//
// posix_spawn, no shell, so no argument is ever interpreted. Free functions;
// thread-safe except that waitpid() reaps any child of the process.

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/types.h>

#include "core/error.hpp"

namespace nyx::cli {

// `name` in the directory of the running executable, else in ../daemon/ from
// there (the build tree), else on PATH; kNotFound otherwise.
Result<std::filesystem::path> find_program(const std::string& name);

// Runs argv[0] (a path) with argv, inheriting stdout and stderr, and returns
// its exit status (128 + signal when killed by one).
Result<int> run_program(const std::vector<std::string>& argv);

// Starts argv in its own session (so a terminal's Ctrl-C reaches only nyxctl),
// stdin from /dev/null, stdout and stderr appended to `log`, no other file
// descriptor inherited, no signal blocked. Returns its pid.
Result<pid_t> spawn_background(const std::vector<std::string>& argv,
                               const std::filesystem::path& log);

// Whether `pid` names a live process (a zombie child is reaped and counts as
// gone).
bool process_alive(pid_t pid);

// SIGTERM, then waits up to `grace` (polling), then SIGKILL. True when the
// process stopped within `grace`; false when it had to be killed.
bool stop_process(pid_t pid, std::chrono::milliseconds grace);

}  // namespace nyx::cli
