#pragma once
// `nyxctl circuit build|close`: start one client circuit now (circuit.build,
// prints its id) or close one (circuit.close: DESTROY along its path).
// add_circuit_command() registers both with CLI11; run_circuit_command()
// runs whichever was parsed. Not thread-safe; the command table owns the
// CircuitCommand. (`nyxctl circuits`, which lists them, is
// cli/circuits_command.hpp.)

#include <cstdint>
#include <expected>
#include <optional>

#include "cli/node_options.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct CircuitCommand {
  CLI::App* build = nullptr;
  CLI::App* close = nullptr;
  NodeOptions node;
  std::uint64_t id = 0;
};

void add_circuit_command(CLI::App& app, CircuitCommand& command);

// The exit code of the subcommand that was parsed, or nullopt when none was.
std::optional<int> run_circuit_command(const CircuitCommand& command);

std::expected<void, Failure> build_circuit(control::ControlClient& client,
                                           const OutputOptions& output);
std::expected<void, Failure> close_circuit(control::ControlClient& client, std::uint64_t id,
                                           const OutputOptions& output);

}  // namespace nyx::cli
