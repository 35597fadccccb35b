#pragma once
// The exit codes of `nyxctl`, documented in `nyxctl --help` and docs/cli.md, so
// scripts can tell "the node said no" from "you typed it wrong" from "there is
// no node".

namespace nyx::cli {

enum class ExitCode : int {
  kOk = 0,
  kFailed = 1,      // the node answered with an error, or the operation failed
  kUsage = 2,       // bad arguments or options
  kNotRunning = 3,  // no node answers at the control socket
};

inline int to_int(ExitCode code) noexcept { return static_cast<int>(code); }

}  // namespace nyx::cli
