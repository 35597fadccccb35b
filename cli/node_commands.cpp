#include "cli/node_commands.hpp"

#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "cli/json_view.hpp"

namespace nyx::cli {
namespace {

std::expected<nlohmann::json, Failure> call(control::ControlClient& client,
                                            std::string_view method) {
  auto result = client.call(method);
  if (!result) {
    return std::unexpected(call_failure(result.error()));
  }
  return std::move(*result);
}

void print(const OutputOptions& output, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), output.out);
  std::fflush(output.out);
}

void print_json(const OutputOptions& output, const nlohmann::json& value, int indent) {
  print(output, value.dump(indent) + "\n");
}

std::string_view empty_note(ListKind kind) {
  switch (kind) {
    case ListKind::kPeers:
      return "no peers";
    case ListKind::kCircuits:
      return "no circuits";
    case ListKind::kStreams:
      return "no streams";
  }
  return "none";
}

}  // namespace

std::string_view list_method(ListKind kind) {
  switch (kind) {
    case ListKind::kPeers:
      return "peers.list";
    case ListKind::kCircuits:
      return "circuits.list";
    case ListKind::kStreams:
      return "streams.list";
  }
  return "";
}

std::expected<void, Failure> show_status(control::ControlClient& client,
                                         const OutputOptions& output) {
  auto info = call(client, "node.info");
  if (!info) {
    return std::unexpected(std::move(info.error()));
  }
  if (output.json) {
    print_json(output, *info, 2);
  } else {
    print(output, render_fields(*info));
  }
  return {};
}

std::expected<void, Failure> show_list(control::ControlClient& client, ListKind kind,
                                       const OutputOptions& output) {
  auto result = call(client, list_method(kind));
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  if (output.json) {
    print_json(output, *result, 2);
  } else {
    print(output, render_records(*result, empty_note(kind)));
  }
  return {};
}

std::expected<void, Failure> show_stats(control::ControlClient& client,
                                        const OutputOptions& output) {
  auto stats = call(client, "node.stats");
  if (!stats) {
    return std::unexpected(std::move(stats.error()));
  }
  if (output.json) {
    print_json(output, *stats, 2);
  } else {
    print(output, render_stats(*stats));
  }
  return {};
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
      screen += fmt::format("nyx stats — every {} ms (Ctrl-C to stop)\n\n", interval.count());
      screen += render_stats(data, have_previous ? &previous : nullptr, elapsed);
      if (!terminal) {
        screen += '\n';
      }
      print(output, screen);
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
