#pragma once
// `nyxctl call METHOD [PARAMS]`: any control method (docs/control.md), its
// result printed as indented JSON with or without --json. A PARAMS that is
// not JSON is a usage error, found before any node is asked.
// add_call_command() registers it with CLI11; run_call_command() runs it
// when it was the command parsed. Not thread-safe; the command table owns
// the CallCommand.

#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct CallCommand {
  CLI::App* call = nullptr;
  NodeOptions node;
  std::string method;
  std::string params;
};

void add_call_command(CLI::App& app, CallCommand& command);

// The exit code when call was parsed, or nullopt.
std::optional<int> run_call_command(const CallCommand& command);

// The params of `nyxctl call`: JSON text, empty meaning none; kUsage when it
// does not parse.
std::expected<nlohmann::json, Failure> parse_call_params(std::string_view text);

std::expected<void, Failure> call_method(control::ControlClient& client, const std::string& method,
                                         const nlohmann::json& params, const OutputOptions& output);

}  // namespace nyx::cli
