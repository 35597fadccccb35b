#pragma once
// Finding and opening a node's control connection: where its socket and
// cookie are (from --socket, --data-dir or the data_dir of a --config file,
// else the first of $NYX_DATA_DIR, /var/lib/nyx and ./nyx-data that holds a
// control socket), connecting and authenticating, and turning what went wrong
// into a message for people and the exit code scripts branch on.
//
// The file names in the data directory are the node's (daemon/data_dir.hpp:
// control.sock, control.cookie); the CLI repeats them rather than link the
// daemon. Free functions; thread-safe.

#include <chrono>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/exit_code.hpp"
#include "core/error.hpp"
#include "daemon/control/control_client.hpp"

namespace nyx::cli {

inline constexpr const char* kDefaultDataDir = "nyx-data";
inline constexpr const char* kSystemDataDir = "/var/lib/nyx";
inline constexpr const char* kDataDirVariable = "NYX_DATA_DIR";
inline constexpr const char* kControlSocketName = "control.sock";
inline constexpr const char* kControlCookieName = "control.cookie";

// What the user said about where the node is; empty means not given.
struct NodeLocation {
  std::filesystem::path socket;
  std::filesystem::path data_dir;
  std::filesystem::path config;
};

struct ControlPaths {
  std::filesystem::path socket;
  std::filesystem::path cookie;
};

// A failed command: what to print (without the "nyxctl: " prefix) and the exit
// code.
struct Failure {
  ExitCode code = ExitCode::kFailed;
  std::string message;
};

// Where to look for a node nobody named, in order: `variable` (the value of
// $NYX_DATA_DIR; null or empty when unset), /var/lib/nyx, ./nyx-data.
std::vector<std::filesystem::path> data_dir_search(const char* variable);

// --socket wins, then --data-dir, then the config's node.data_dir: each is
// the only place looked at. Without any of them, the first directory of
// `search` holding a control socket (or one we may not look into, so that
// connecting explains the permission); none is kNotRunning naming every
// place looked. Without --data-dir the cookie sits beside the socket.
std::expected<ControlPaths, Failure> resolve_control_paths(
    const NodeLocation& location, const std::vector<std::filesystem::path>& search =
                                      data_dir_search(std::getenv(kDataDirVariable)));

// Connects and authenticates. A missing socket or one nobody listens on is
// kNotRunning, with how to start a node; a socket or cookie we may not open
// is kFailed naming the group that may (and how to join it); anything else
// is kFailed.
std::expected<control::ControlClient, Failure> open_control(
    const ControlPaths& paths, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The Failure for an error a call on an open connection returned.
Failure call_failure(const Error& error);

}  // namespace nyx::cli
