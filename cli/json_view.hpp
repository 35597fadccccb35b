#pragma once
// Views: control-call results (JSON) turned into tables for people.
//
// The node's methods return objects (node.info), lists of records
// (peers.list, circuits.list, streams.list) and metric families (node.stats,
// events). The views read field and metric names for their units, by the
// Prometheus naming convention the node follows: *_bytes → KiB/MiB,
// *_seconds / *_ms / *_us / *_ns → ms or s, uptime → "3h 07m", counts grouped
// by thousands. `--json` bypasses all of this and prints the raw result.
//
// Free functions, no state; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nyx::cli {

// One value as a person reads it, given the field or metric name it sits
// under.
std::string humanize(std::string_view name, const nlohmann::json& value);

// An object as "field  value" lines; nested objects flatten to "a.b".
std::string render_fields(const nlohmann::json& object);

// Records as a table, one column per field (first-seen order). Accepts an
// array of objects, or an object holding one such array (e.g.
// {"peers": [...]}); `empty_note` is printed when there are none.
std::string render_records(const nlohmann::json& result, std::string_view empty_note);

// Metric families (core/metrics/registry.hpp's JSON, possibly under a
// "metrics" member) as a table: metric, labels, value. Given the previous
// snapshot and the seconds between the two, counters gain a rate column.
std::string render_stats(const nlohmann::json& stats, const nlohmann::json* previous = nullptr,
                         double elapsed_seconds = 0);

}  // namespace nyx::cli
