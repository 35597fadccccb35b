#pragma once
// `nyxctl newnym`: a new identity (circuits.newnym): new streams get new
// circuits while running streams go on on the old, now retired, ones.
// add_newnym_command() registers it with CLI11; run_newnym_command() runs it
// when it was the command parsed. Not thread-safe; the command table owns
// the NewnymCommand.

#include <expected>
#include <optional>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct NewnymCommand {
  CLI::App* newnym = nullptr;
  NodeOptions node;
};

void add_newnym_command(CLI::App& app, NewnymCommand& command);

// The exit code when newnym was parsed, or nullopt.
std::optional<int> run_newnym_command(const NewnymCommand& command);

std::expected<void, Failure> new_identity(control::ControlClient& client,
                                          const OutputOptions& output);

}  // namespace nyx::cli
