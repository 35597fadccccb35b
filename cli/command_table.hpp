#pragma once
// The table of nyxctl's subcommands. Each lives in a file of its own,
// cli/<name>_command.{hpp,cpp}: a struct holding its options, add_<name>_command()
// registering them with CLI11, and run_<name>_command() running it when it
// was the command parsed (its exit code, nullopt otherwise). The table owns
// one of each, registers them in the order `nyxctl --help` lists them and,
// after parsing, runs the one that was parsed. Shell completion
// (packaging/nyxctl.bash-completion) lists the same subcommands.
//
// Not thread-safe; main() owns the table, and the App it registered on must
// outlive it.

#include <functional>
#include <optional>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

class CommandTable {
 public:
  // Registers every subcommand on `app`.
  explicit CommandTable(CLI::App& app);
  CommandTable(const CommandTable&) = delete;
  CommandTable& operator=(const CommandTable&) = delete;

  // The exit code of the subcommand `app` parsed; kUsage when none was.
  int run() const;

 private:
  template <class Command, class Run>
  void add(CLI::App& app, void (*add_command)(CLI::App&, Command&), Run run_command);

  // One per subcommand: runs it if it was parsed.
  std::vector<std::move_only_function<std::optional<int>() const>> runs_;
};

}  // namespace nyx::cli
