#pragma once
// `nyxctl bench` on the command line: the load generator (`nyxctl bench TARGET`),
// the origin (`nyxctl bench serve`) and the plain-proxy baseline (`nyxctl bench
// proxy`). add_bench_command() registers the options with CLI11;
// run_bench_command() runs whichever was parsed. Not thread-safe; the command
// table owns the BenchCommand.
#include <optional>
#include <string>

#include "cli/bench_client.hpp"
#include "cli/bench_server.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace nyx::cli {

struct BenchCommand {
  CLI::App* bench = nullptr;
  CLI::App* serve = nullptr;
  CLI::App* proxy = nullptr;
  BenchOptions options;
  std::string target;
  std::string socks;
  std::string duration = "10s";
  std::string timeout = "10s";
  std::string mode = "rr";
  bool json = false;
  bool quiet = false;
  BenchServerOptions serve_options;
  BenchServerOptions proxy_options;
  std::string serve_listen = "127.0.0.1:7400";
  std::string proxy_listen = "127.0.0.1:7401";
};

void add_bench_command(CLI::App& app, BenchCommand& command);

// The exit code of the bench command that was parsed, or nullopt when none was.
std::optional<int> run_bench_command(BenchCommand& command);

}  // namespace nyx::cli
