// nyxctl's table of subcommands: the shell completion names exactly the
// commands and subcommands it registers, and a parsed command is the one run.
#include "cli/command_table.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "cli/exit_code.hpp"

namespace nyx::cli {
namespace {

std::string completion_script() {
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                    "packaging" / "nyxctl.bash-completion";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The words of `[key]='...'` in the completion's subcommands table.
std::set<std::string> completed(const std::string& script, const std::string& key) {
  const std::regex entry("\\[" + key + "\\]='([^']*)'");
  std::smatch match;
  std::set<std::string> words;
  if (std::regex_search(script, match, entry)) {
    std::istringstream list(match[1].str());
    for (std::string word; list >> word;) {
      words.insert(word);
    }
  }
  return words;
}

std::set<std::string> names_of(const std::vector<CLI::App*>& commands) {
  std::set<std::string> names;
  for (const auto* command : commands) {
    names.insert(command->get_name());
  }
  return names;
}

const auto kAll = [](CLI::App*) { return true; };

TEST(CommandTable, TheCompletionNamesEveryCommandAndSubcommand) {
  CLI::App app;
  const CommandTable table(app);
  const std::string script = completion_script();
  ASSERT_FALSE(script.empty());
  const auto commands = app.get_subcommands(kAll);
  EXPECT_EQ(names_of(commands), completed(script, "top"));
  for (auto* command : commands) {
    const auto subcommands = names_of(command->get_subcommands(kAll));
    if (!subcommands.empty()) {
      EXPECT_EQ(subcommands, completed(script, command->get_name())) << command->get_name();
    }
  }
}

TEST(CommandTable, RunsTheCommandThatWasParsed) {
  // The call command itself answers: its params are checked before any node
  // is looked for, and a socket nobody listens on is "no node is running".
  const std::string socket =
      (std::filesystem::temp_directory_path() / "nyx-command-table-none.sock").string();
  for (const auto& [params, code] :
       {std::pair{"{bad", ExitCode::kUsage}, std::pair{"{}", ExitCode::kNotRunning}}) {
    CLI::App app;
    const CommandTable table(app);
    const char* argv[] = {"nyxctl", "call", "--socket", socket.c_str(), "node.info", params};
    app.parse(6, argv);
    EXPECT_EQ(table.run(), to_int(code)) << params;
  }
}

TEST(CommandTable, NothingParsedIsAUsageError) {
  CLI::App app;
  const CommandTable table(app);
  EXPECT_EQ(table.run(), to_int(ExitCode::kUsage));
}

}  // namespace
}  // namespace nyx::cli
