#pragma once
// The commands that act on a running node over its control connection:
// reload (config.reload, then directory.reload), shutdown (node.shutdown,
// and optionally waiting until the node is gone), circuit build|close,
// newnym (circuits.newnym) and call (any method). Each prints one line
// saying what happened or, with --json, the raw result.
//
// Output goes to the given FILE so tests can capture it. Free functions; one
// thread at a time per ControlClient.

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/node_commands.hpp"
#include "cli/node_connection.hpp"
#include "daemon/control/control_client.hpp"

namespace nyx::cli {

// The line for config.reload's and directory.reload's results, e.g.
// "config reloaded: applied log; needs a restart: socks; directory: 5 nodes,
// valid until 2025-01-01 00:00 UTC".
std::string describe_reload(const nlohmann::json& config, const nlohmann::json& directory);

// The params of `nyxctl call`: JSON text, empty meaning none; kUsage when it
// does not parse.
std::expected<nlohmann::json, Failure> parse_call_params(std::string_view text);

std::expected<void, Failure> reload_node(control::ControlClient& client,
                                         const OutputOptions& output);
std::expected<void, Failure> shutdown_node(control::ControlClient& client,
                                           const OutputOptions& output);
// Polls until nothing answers at `socket` any more; kFailed after `timeout`.
std::expected<void, Failure> wait_until_gone(const std::filesystem::path& socket,
                                             std::chrono::milliseconds timeout);
std::expected<void, Failure> build_circuit(control::ControlClient& client,
                                           const OutputOptions& output);
std::expected<void, Failure> close_circuit(control::ControlClient& client, std::uint64_t id,
                                           const OutputOptions& output);
std::expected<void, Failure> new_identity(control::ControlClient& client,
                                          const OutputOptions& output);
// Prints the result as indented JSON, with or without --json.
std::expected<void, Failure> call_method(control::ControlClient& client, const std::string& method,
                                         const nlohmann::json& params, const OutputOptions& output);

}  // namespace nyx::cli
