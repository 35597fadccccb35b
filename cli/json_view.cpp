#include "cli/json_view.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/table.hpp"

namespace nyx::cli {
namespace {

enum class Unit { kNone, kPlain, kTime, kBytes, kSeconds, kMillis, kMicros, kNanos, kUptime };

Unit unit_of(std::string_view name) {
  // The last path component: "stats.rx_bytes" → "rx_bytes".
  if (const auto dot = name.rfind('.'); dot != std::string_view::npos) {
    name.remove_prefix(dot + 1);
  }
  for (std::string_view suffix : {"_total", "_sum"}) {
    if (name.ends_with(suffix)) {
      name.remove_suffix(suffix.size());
    }
  }
  if (name.find("uptime") != std::string_view::npos) {
    return Unit::kUptime;
  }
  // Identifiers read as written, not as quantities ("pid 3,390").
  if (name == "pid" || name.ends_with("port") || name.ends_with("epoch") || name.ends_with("_id")) {
    return Unit::kPlain;
  }
  if (name == "valid_after" || name == "valid_until" || name.ends_with("_at")) {
    return Unit::kTime;
  }
  if (name.find("bytes") != std::string_view::npos) {
    return Unit::kBytes;
  }
  if (name.ends_with("_seconds")) {
    return Unit::kSeconds;
  }
  if (name.ends_with("_ms")) {
    return Unit::kMillis;
  }
  if (name.ends_with("_us")) {
    return Unit::kMicros;
  }
  if (name.ends_with("_ns")) {
    return Unit::kNanos;
  }
  return Unit::kNone;
}

std::string plain_number(double value) {
  if (std::isnan(value)) {
    return "-";
  }
  if (value >= 0 && value < 1e15 && value == std::floor(value)) {
    return format_count(static_cast<std::uint64_t>(value));
  }
  return fmt::format("{:.3g}", value);
}

std::string with_unit(Unit unit, double value) {
  switch (unit) {
    case Unit::kBytes:
      return format_bytes(value);
    case Unit::kSeconds:
      return format_millis(value * 1e3);
    case Unit::kMillis:
      return format_millis(value);
    case Unit::kMicros:
      return format_millis(value / 1e3);
    case Unit::kNanos:
      return format_millis(value / 1e6);
    case Unit::kUptime:
      return value >= 0 && std::isfinite(value) ? format_uptime(static_cast<std::uint64_t>(value))
                                                : "-";
    case Unit::kPlain:
      return fmt::format("{}", value);
    case Unit::kTime:
      return value >= 0 && std::isfinite(value) ? format_utc(static_cast<std::uint64_t>(value))
                                                : "-";
    case Unit::kNone:
      break;
  }
  return plain_number(value);
}

void flatten(const nlohmann::json& value, const std::string& prefix, Table& table) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, member] : value.items()) {
      flatten(member, prefix.empty() ? key : prefix + "." + key, table);
    }
    return;
  }
  table.add_row({prefix, humanize(prefix, value)});
}

// The array of records in a list result, or null.
const nlohmann::json* records_of(const nlohmann::json& result) {
  if (result.is_array()) {
    return &result;
  }
  if (result.is_object()) {
    const nlohmann::json* found = nullptr;
    for (const auto& [key, member] : result.items()) {
      if (member.is_array()) {
        if (found != nullptr) {
          return nullptr;  // ambiguous: two lists
        }
        found = &member;
      }
    }
    return found;
  }
  return nullptr;
}

std::string labels_text(const nlohmann::json& labels) {
  std::string out;
  if (!labels.is_object()) {
    return out;
  }
  for (const auto& [key, value] : labels.items()) {
    if (!out.empty()) {
      out += ',';
    }
    out += key;
    out += '=';
    out += value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

double number_or_nan(const nlohmann::json& value) {
  return value.is_number() ? value.get<double>() : std::nan("");
}

// The families of a node.stats result or event.
const nlohmann::json& families_of(const nlohmann::json& stats) {
  if (stats.is_object() && stats.contains("metrics") && stats["metrics"].is_object()) {
    return stats["metrics"];
  }
  return stats;
}

bool is_family(const nlohmann::json& family) {
  return family.is_object() && family.contains("type") && family.contains("series") &&
         family["series"].is_array();
}

// The value of the series with `labels` in `previous`'s family `name`.
std::optional<double> previous_value(const nlohmann::json* previous, const std::string& name,
                                     const nlohmann::json& labels) {
  if (previous == nullptr) {
    return std::nullopt;
  }
  const nlohmann::json& families = families_of(*previous);
  if (!families.is_object() || !families.contains(name) || !is_family(families[name])) {
    return std::nullopt;
  }
  for (const auto& series : families[name]["series"]) {
    if (series.is_object() && series.value("labels", nlohmann::json::object()) == labels &&
        series.contains("value") && series["value"].is_number()) {
      return series["value"].get<double>();
    }
  }
  return std::nullopt;
}

// The upper bound of the first bucket holding at least `fraction` of a
// histogram series' observations (node.stats: cumulative "buckets" with
// finite "le" bounds, "count" = the +Inf bucket): an upper bound of that
// quantile, as precise as the buckets are. NaN when there is none.
double bucket_quantile(const nlohmann::json& series, double fraction) {
  const double count = number_or_nan(series.value("count", nlohmann::json()));
  const auto buckets = series.value("buckets", nlohmann::json::array());
  if (!(count > 0) || !buckets.is_array()) {
    return std::nan("");
  }
  for (const auto& bucket : buckets) {
    if (number_or_nan(bucket.value("count", nlohmann::json())) >= fraction * count) {
      return number_or_nan(bucket.value("le", nlohmann::json()));
    }
  }
  return std::numeric_limits<double>::infinity();  // only the +Inf bucket holds it
}

// A histogram series in one cell: its count, mean and bucketed p50/p95.
std::string histogram_text(const nlohmann::json& series, Unit unit) {
  const double count = number_or_nan(series.value("count", nlohmann::json()));
  const double sum = number_or_nan(series.value("sum", nlohmann::json()));
  return fmt::format("n={} mean={} p50<={} p95<={}", plain_number(count),
                     with_unit(unit, count > 0 ? sum / count : std::nan("")),
                     with_unit(unit, bucket_quantile(series, 0.5)),
                     with_unit(unit, bucket_quantile(series, 0.95)));
}

}  // namespace

std::string humanize(std::string_view name, const nlohmann::json& value) {
  if (value.is_null()) {
    return "-";
  }
  if (value.is_boolean()) {
    return value.get<bool>() ? "yes" : "no";
  }
  if (value.is_number()) {
    return with_unit(unit_of(name), value.get<double>());
  }
  if (value.is_string()) {
    // Keys (64 hex digits) fill a screen; 16 tell nodes apart. --json has all.
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      return text.substr(0, 16);
    }
    return text;
  }
  if (value.is_array()) {
    std::string out;
    for (const auto& element : value) {
      if (!out.empty()) {
        out += element.is_primitive() ? "," : " ";
      }
      out += element.is_primitive() ? humanize(name, element) : element.dump();
    }
    return out.empty() ? "-" : out;
  }
  return value.dump();
}

std::string render_fields(const nlohmann::json& object) {
  Table table({"FIELD", "VALUE"});
  flatten(object, "", table);
  return table.render();
}

std::string render_records(const nlohmann::json& result, std::string_view empty_note) {
  const nlohmann::json* records = records_of(result);
  if (records == nullptr) {
    return render_fields(result);
  }
  if (records->empty()) {
    return fmt::format("{}\n", empty_note);
  }
  std::vector<std::string> columns;
  for (const auto& record : *records) {
    if (!record.is_object()) {
      continue;
    }
    for (const auto& [key, member] : record.items()) {
      if (std::find(columns.begin(), columns.end(), key) == columns.end()) {
        columns.push_back(key);
      }
    }
  }
  // Names first, then the rest in first-seen order (nlohmann sorts members
  // alphabetically, which would put "bandwidth" before "id").
  static constexpr std::string_view kFirst[] = {"name",         "nickname", "id",   "node_id",
                                                "identity_key", "up",       "state"};
  std::stable_sort(columns.begin(), columns.end(), [](const std::string& a, const std::string& b) {
    const auto rank = [](const std::string& c) {
      return static_cast<std::size_t>(std::find(std::begin(kFirst), std::end(kFirst), c) -
                                      std::begin(kFirst));
    };
    return rank(a) < rank(b);
  });
  if (columns.empty()) {  // a list of plain values
    Table table({"VALUE"});
    for (const auto& value : *records) {
      table.add_row({humanize("", value)});
    }
    return table.render();
  }
  std::vector<std::string> headers;
  for (const auto& column : columns) {
    std::string header = column;
    for (char& c : header) {
      c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    headers.push_back(std::move(header));
  }
  Table table(std::move(headers));
  std::vector<bool> numeric(columns.size(), true);
  for (const auto& record : *records) {
    std::vector<std::string> cells;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const bool present = record.is_object() && record.contains(columns[c]);
      const nlohmann::json& value = present ? record[columns[c]] : nlohmann::json();
      numeric[c] = numeric[c] && (value.is_number() || value.is_null());
      cells.push_back(humanize(columns[c], value));
    }
    table.add_row(std::move(cells));
  }
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (numeric[c]) {
      table.set_align(c, Table::Align::kRight);
    }
  }
  return table.render();
}

std::string render_stats(const nlohmann::json& stats, const nlohmann::json* previous,
                         double elapsed_seconds) {
  const nlohmann::json& families = families_of(stats);
  if (!families.is_object()) {
    return render_fields(stats);
  }
  const bool with_rate = previous != nullptr && elapsed_seconds > 0;
  std::vector<std::string> headers = {"METRIC", "LABELS", "VALUE"};
  if (with_rate) {
    headers.emplace_back("RATE");
  }
  Table table(std::move(headers));
  table.set_align(2, Table::Align::kRight);
  table.set_align(3, Table::Align::kRight);
  std::size_t plain_fields = 0;
  for (const auto& [name, family] : families.items()) {
    if (!is_family(family)) {
      ++plain_fields;
      continue;
    }
    // "nyx_" is on every metric; dropping it keeps the column narrow.
    const std::string shown = name.starts_with("nyx_") ? name.substr(4) : name;
    const Unit unit = unit_of(name);
    const bool counter = family["type"] == "counter";
    for (const auto& series : family["series"]) {
      if (!series.is_object()) {
        continue;
      }
      const nlohmann::json labels = series.value("labels", nlohmann::json::object());
      std::string value;
      std::string rate;
      if (series.contains("value")) {
        const double now = number_or_nan(series["value"]);
        value = with_unit(unit, now);
        if (const auto before = previous_value(previous, name, labels);
            counter && with_rate && before) {
          const double per_second = (now - *before) / elapsed_seconds;
          rate = (unit == Unit::kNone ? plain_number(std::round(per_second * 10) / 10)
                                      : with_unit(unit, per_second)) +
                 "/s";
        }
      } else {
        value = histogram_text(series, unit);
      }
      std::vector<std::string> row = {shown, labels_text(labels), value};
      if (with_rate) {
        row.push_back(rate);
      }
      table.add_row(std::move(row));
    }
  }
  if (table.row_count() == 0 && plain_fields > 0) {
    return render_fields(stats);
  }
  return table.render();
}

}  // namespace nyx::cli
