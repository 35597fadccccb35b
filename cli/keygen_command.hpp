#pragma once
// `nyxctl keygen` on the command line: a node's keys and descriptor, or with
// --authority a directory authority's signing key beside its node keys, and
// the line every node's directory.authorities takes for it (cli/node_keys.hpp
// does the work), or with --sign-descriptor FILE the node's signed descriptor, made from
// the descriptor TOML the operator completed (cli/descriptor_file.hpp).
// Not thread-safe; the command table owns the KeygenCommand.

#include <optional>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct KeygenCommand {
  CLI::App* keygen = nullptr;
  std::string out;
  bool authority = false;
  std::string address;          // with --authority: the IP:PORT printed in its line
  std::string sign_descriptor;  // the descriptor TOML to sign, or empty
};

void add_keygen_command(CLI::App& app, KeygenCommand& command);

// The exit code when keygen was parsed, or nullopt.
std::optional<int> run_keygen_command(const KeygenCommand& command);

}  // namespace nyx::cli
