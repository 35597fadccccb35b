#pragma once
// `nyxctl directory sign|verify` on the command line (cli/directory_tool.hpp
// does the work). Not thread-safe; the command table owns the DirectoryCommand.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct DirectoryCommand {
  CLI::App* sign = nullptr;
  CLI::App* verify = nullptr;
  std::vector<std::string> sign_keys;
  std::vector<std::string> sign_descriptors;
  std::string sign_valid_for;
  std::string sign_out;
  std::vector<std::string> verify_authorities;
  std::size_t verify_threshold = 1;
  std::string verify_file;
};

void add_directory_command(CLI::App& app, DirectoryCommand& command);

// The exit code of the subcommand that was parsed, or nullopt when none was.
std::optional<int> run_directory_command(const DirectoryCommand& command);

}  // namespace nyx::cli
