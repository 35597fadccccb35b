#include "cli/stats_command.hpp"

#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "cli/json_view.hpp"

namespace nyx::cli {

void add_stats_command(CLI::App& app, StatsCommand& command) {
  command.stats = app.add_subcommand("stats", "every metric of the node");
  add_node_options(*command.stats, command.node);
  command.stats->add_flag("--watch", command.watch,
                          "follow the metrics, redrawing with per-second rates");
  command.stats
      ->add_option("--interval", command.interval_ms, "milliseconds between updates with --watch")
      ->check(CLI::Range(10, 3'600'000))
      ->capture_default_str();
}

std::optional<int> run_stats_command(const StatsCommand& command) {
  if (!command.stats->parsed()) {
    return std::nullopt;
  }
  return with_node(command.node, [&command](auto& client, const auto& output) {
    return command.watch
               ? watch_stats(client, std::chrono::milliseconds(command.interval_ms), output)
               : show_stats(client, output);
  });
}

std::expected<void, Failure> show_stats(control::ControlClient& client,
                                        const OutputOptions& output) {
  return show_result(client, "node.stats", output,
                     [](const nlohmann::json& stats) { return render_stats(stats); });
}

std::expected<void, Failure> watch_stats(control::ControlClient& client,
                                         std::chrono::milliseconds interval,
                                         const OutputOptions& output, std::size_t max_events) {
  // Clearing the screen only makes sense on a terminal; piped output gets
  // one table after another.
  const bool terminal = ::isatty(::fileno(output.out)) == 1;
  nlohmann::json previous;
  bool have_previous = false;
  std::size_t seen = 0;
  // The node pushes a snapshot every interval; rates use that period rather
  // than arrival times, which jitter with scheduling and buffering.
  const double elapsed = std::chrono::duration<double>(interval).count();
  const auto status = client.subscribe(interval, [&](const nlohmann::json& data) {
    if (output.json) {
      print_json(output, data, -1);
    } else {
      std::string screen = terminal ? "\x1b[H\x1b[2J" : "";
      screen += fmt::format("nyxctl stats — every {} ms (Ctrl-C to stop)\n\n", interval.count());
      screen += render_stats(data, have_previous ? &previous : nullptr, elapsed);
      if (!terminal) {
        screen += '\n';
      }
      print_text(output, screen);
    }
    previous = data;
    have_previous = true;
    ++seen;
    return max_events == 0 || seen < max_events;
  });
  if (!status) {
    return std::unexpected(call_failure(status.error()));
  }
  return {};
}

}  // namespace nyx::cli
