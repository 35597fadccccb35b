#include "cli/node_commands.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "cli/json_view.hpp"
#include "cli/table.hpp"

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

// A field as a count or text for a table cell; "-" when absent or of another
// type, so a node's newer or older shape never throws.
std::string count_cell(const nlohmann::json& record, std::string_view key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_number_unsigned() ? format_count(it->get<std::uint64_t>())
                                                        : "-";
}

std::string text_cell(const nlohmann::json& record, std::string_view key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : "-";
}

std::string millis_cell(const nlohmann::json& record, std::string_view key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_number() ? format_millis(it->get<double>()) : "-";
}

std::string bytes_cell(const nlohmann::json& record, std::string_view key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_number() ? format_bytes(it->get<double>()) : "-";
}

std::string path_cell(const nlohmann::json& circuit) {
  constexpr std::size_t kShown = 8;
  const auto it = circuit.find("hops");
  if (it == circuit.end() || !it->is_array()) {
    return "-";
  }
  std::vector<std::string> hops;
  for (const auto& hop : *it) {
    hops.push_back(hop.is_string() ? hop.get<std::string>().substr(0, kShown) : "?");
  }
  return fmt::format("{}", fmt::join(hops, " > "));
}

bool is_record_list(const nlohmann::json& list) {
  return list.is_array() && std::all_of(list.begin(), list.end(),
                                        [](const nlohmann::json& r) { return r.is_object(); });
}

std::string render_list(ListKind kind, const nlohmann::json& result) {
  switch (kind) {
    case ListKind::kCircuits:
      return render_circuits(result);
    case ListKind::kStreams:
      return render_streams(result);
    case ListKind::kPeers:
      break;
  }
  return render_records(result, empty_note(kind));
}

}  // namespace

std::string render_circuits(const nlohmann::json& result) {
  if (!result.is_object() || !result.contains("circuits") || !is_record_list(result["circuits"])) {
    return render_records(result, empty_note(ListKind::kCircuits));
  }
  std::string text = fmt::format("relayed for others: {}\n", count_cell(result, "relayed"));
  const auto& circuits = result["circuits"];
  if (circuits.empty()) {
    return text + "no client circuits\n";
  }
  Table table({"ID", "STATE", "AGE", "STREAMS", "TOTAL", "ISOLATION", "PATH"});
  for (std::size_t column : {0u, 2u, 3u, 4u}) {
    table.set_align(column, Table::Align::kRight);
  }
  for (const auto& circuit : circuits) {
    std::string state = text_cell(circuit, "state");
    const auto retired = circuit.find("retired");
    if (retired != circuit.end() && retired->is_boolean() && retired->get<bool>()) {
      state += " (retired)";
    }
    table.add_row({count_cell(circuit, "id"), state, millis_cell(circuit, "age_ms"),
                   count_cell(circuit, "streams_open"), count_cell(circuit, "streams_total"),
                   text_cell(circuit, "isolation"), path_cell(circuit)});
  }
  return text + table.render();
}

std::string render_streams(const nlohmann::json& result) {
  if (!is_record_list(result)) {
    return render_records(result, empty_note(ListKind::kStreams));
  }
  if (result.empty()) {
    return std::string(empty_note(ListKind::kStreams)) + "\n";
  }
  Table table({"ID", "CIRCUIT", "AGE", "UP", "DOWN"});
  for (std::size_t column = 0; column < 5; ++column) {
    table.set_align(column, Table::Align::kRight);
  }
  for (const auto& stream : result) {
    table.add_row({count_cell(stream, "id"), count_cell(stream, "circuit"),
                   millis_cell(stream, "age_ms"), bytes_cell(stream, "bytes_up"),
                   bytes_cell(stream, "bytes_down")});
  }
  return table.render();
}

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
    print(output, render_list(kind, *result));
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
      screen += fmt::format("nyxctl stats — every {} ms (Ctrl-C to stop)\n\n", interval.count());
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
