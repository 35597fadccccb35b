#include "core/metrics/registry.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nyx::metrics {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool valid_metric_name(std::string_view name) {
  if (!name.starts_with("nyx_") && !name.starts_with("process_")) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_name_start(c) || is_digit(c) || c == ':'; });
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front()) || name.starts_with("__") || name == "le") {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_name_start(c) || is_digit(c); });
}

// Exposition format 0.0.4: HELP escapes \ and newline; label values also ".
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// {a="x",b="y"} with an optional extra label appended; nothing if no labels.
void append_labels(std::string& out, const Labels& labels, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) {
    return;
  }
  out += '{';
  bool first = true;
  auto one = [&](std::string_view name, std::string_view value) {
    if (!first) {
      out += ',';
    }
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  };
  for (const auto& [name, value] : labels) {
    one(name, value);
  }
  if (!extra_name.empty()) {
    one(extra_name, extra_value);
  }
  out += '}';
}

// A sample value as the exposition format spells it (Go's ParseFloat reads it).
std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  return fmt::format("{}", v);
}

using Series = std::variant<std::monostate, std::unique_ptr<Counter>, std::unique_ptr<Gauge>,
                            std::unique_ptr<BucketHistogram>, ValueFunction>;

}  // namespace

struct Registry::Family {
  Type type;
  std::string help;
  std::vector<double> bounds;  // histograms: every series' buckets
  std::map<Labels, Series> series;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help, Type type) {
  if (!valid_metric_name(name)) {
    throw std::invalid_argument(
        fmt::format("metric name {:?} must match (nyx|process)_[a-zA-Z0-9_:]*", name));
  }
  auto found = families_.find(name);
  if (found == families_.end()) {
    found = families_
                .emplace(std::string(name),
                         std::make_unique<Family>(Family{type, std::string(help), {}, {}}))
                .first;
  } else if (found->second->type != type) {
    throw std::invalid_argument(
        fmt::format("metric {} registered twice with different types", name));
  }
  return *found->second;
}

Labels Registry::canonical(const Labels& labels) {
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (!valid_label_name(sorted[i].first)) {
      throw std::invalid_argument(fmt::format("bad label name {:?}", sorted[i].first));
    }
    if (i > 0 && sorted[i].first == sorted[i - 1].first) {
      throw std::invalid_argument(fmt::format("label {} given twice", sorted[i].first));
    }
  }
  return sorted;
}

namespace {

// The T in a series slot, made on first use; throws when the slot already
// holds a function (registered with *_from).
template <class T>
T& held(Series& slot, std::string_view name) {
  if (auto* metric = std::get_if<std::unique_ptr<T>>(&slot)) {
    return **metric;
  }
  if (!std::holds_alternative<std::monostate>(slot)) {
    throw std::invalid_argument(
        fmt::format("metric {} registered both as a function and as an object", name));
  }
  auto made = std::make_unique<T>();
  T& ref = *made;
  slot = std::move(made);
  return ref;
}

void set_function(Series& slot, std::string_view name, ValueFunction read) {
  if (!std::holds_alternative<std::monostate>(slot) &&
      !std::holds_alternative<ValueFunction>(slot)) {
    throw std::invalid_argument(
        fmt::format("metric {} registered both as a function and as an object", name));
  }
  slot = std::move(read);
}

}  // namespace

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  Labels key = canonical(labels);
  std::lock_guard lock(mu_);
  return held<Counter>(family(name, help, Type::kCounter).series[std::move(key)], name);
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  Labels key = canonical(labels);
  std::lock_guard lock(mu_);
  return held<Gauge>(family(name, help, Type::kGauge).series[std::move(key)], name);
}

BucketHistogram& Registry::histogram(std::string_view name, std::string_view help,
                                     const std::vector<double>& bounds, const Labels& labels) {
  Labels key = canonical(labels);
  std::lock_guard lock(mu_);
  Family& histograms = family(name, help, Type::kHistogram);
  if (!histograms.series.empty() && histograms.bounds != bounds) {
    throw std::invalid_argument(fmt::format("histogram {} registered with other bounds", name));
  }
  if (auto found = histograms.series.find(key); found != histograms.series.end()) {
    return *std::get<std::unique_ptr<BucketHistogram>>(found->second);
  }
  // Made before it is stored, so that bad bounds (it throws) leave nothing behind.
  auto made = std::make_unique<BucketHistogram>(bounds);
  BucketHistogram& ref = *made;
  histograms.bounds = bounds;
  histograms.series.emplace(std::move(key), std::move(made));
  return ref;
}

void Registry::counter_from(std::string_view name, std::string_view help, ValueFunction read,
                            const Labels& labels) {
  Labels key = canonical(labels);
  std::lock_guard lock(mu_);
  set_function(family(name, help, Type::kCounter).series[std::move(key)], name, std::move(read));
}

void Registry::gauge_from(std::string_view name, std::string_view help, ValueFunction read,
                          const Labels& labels) {
  Labels key = canonical(labels);
  std::lock_guard lock(mu_);
  set_function(family(name, help, Type::kGauge).series[std::move(key)], name, std::move(read));
}

std::string Registry::prometheus_text() const {
  std::string out;
  auto sink = std::back_inserter(out);
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, family->help, false);
    out += "\n# TYPE ";
    out += name;
    out += family->type == Type::kCounter ? " counter\n"
           : family->type == Type::kGauge ? " gauge\n"
                                          : " histogram\n";
    for (const auto& [labels, metric] : family->series) {
      if (const auto* counter = std::get_if<std::unique_ptr<Counter>>(&metric)) {
        out += name;
        append_labels(out, labels);
        fmt::format_to(sink, " {}\n", (*counter)->value());
      } else if (const auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&metric)) {
        out += name;
        append_labels(out, labels);
        fmt::format_to(sink, " {}\n", (*gauge)->value());
      } else if (const auto* read = std::get_if<ValueFunction>(&metric)) {
        out += name;
        append_labels(out, labels);
        fmt::format_to(sink, " {}\n", format_value((*read)()));
      } else if (const auto* histogram = std::get_if<std::unique_ptr<BucketHistogram>>(&metric)) {
        const BucketHistogramSnapshot snap = (*histogram)->snapshot();
        for (std::size_t i = 0; i < snap.bounds.size(); ++i) {
          out += name;
          out += "_bucket";
          append_labels(out, labels, "le", format_value(snap.bounds[i]));
          fmt::format_to(sink, " {}\n", snap.cumulative[i]);
        }
        out += name;
        out += "_bucket";
        append_labels(out, labels, "le", "+Inf");
        fmt::format_to(sink, " {}\n", snap.count);
        out += name;
        out += "_sum";
        append_labels(out, labels);
        fmt::format_to(sink, " {}\n", format_value(snap.sum));
        out += name;
        out += "_count";
        append_labels(out, labels);
        fmt::format_to(sink, " {}\n", snap.count);
      }
    }
  }
  return out;
}

std::string Registry::json() const {
  nlohmann::json root = nlohmann::json::object();
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) {
    nlohmann::json series = nlohmann::json::array();
    for (const auto& [labels, metric] : family->series) {
      nlohmann::json entry;
      entry["labels"] = nlohmann::json::object();
      for (const auto& [label, value] : labels) {
        entry["labels"][label] = value;
      }
      if (const auto* counter = std::get_if<std::unique_ptr<Counter>>(&metric)) {
        entry["value"] = (*counter)->value();
      } else if (const auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&metric)) {
        entry["value"] = (*gauge)->value();
      } else if (const auto* read = std::get_if<ValueFunction>(&metric)) {
        entry["value"] = (*read)();  // NaN and infinities become null
      } else if (const auto* histogram = std::get_if<std::unique_ptr<BucketHistogram>>(&metric)) {
        const BucketHistogramSnapshot snap = (*histogram)->snapshot();
        entry["count"] = snap.count;
        entry["sum"] = snap.sum;
        nlohmann::json buckets = nlohmann::json::array();
        for (std::size_t i = 0; i < snap.bounds.size(); ++i) {
          buckets.push_back({{"le", snap.bounds[i]}, {"count", snap.cumulative[i]}});
        }
        entry["buckets"] = std::move(buckets);
      } else {
        continue;  // never filled: its registration threw
      }
      series.push_back(std::move(entry));
    }
    root[name] = {{"type", family->type == Type::kCounter ? "counter"
                           : family->type == Type::kGauge ? "gauge"
                                                          : "histogram"},
                  {"help", family->help},
                  {"series", std::move(series)}};
  }
  return root.dump();
}

}  // namespace nyx::metrics
