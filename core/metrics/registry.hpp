#pragma once
// Registry: the named, labelled metrics of one process (or one test), and
// their exposition as Prometheus text (format 0.0.4) and as JSON.
//
// The daemon owns one and passes references down; components register their
// metrics at start-up and keep the returned references, which stay valid for
// the registry's lifetime (nothing is ever unregistered). Registration and
// exposition are thread-safe (one mutex; neither is on a hot path);
// updating a metric never touches the registry.
//
// Names must start with `nyx_` and match [a-zA-Z_:][a-zA-Z0-9_:]*; label
// names match [a-zA-Z_][a-zA-Z0-9_]*, do not start with `__`, do not repeat,
// and `quantile` is reserved. Label values are free text (escaped on output),
// so peer-supplied values are safe. Labels are compared as a set: their order
// at registration does not matter. The same name and labels give back the
// same object; the help text of a family is the one it was first given.
//
// A bad name, a bad label name, or a name reused with another type is a
// programming error: registration throws std::invalid_argument, which is why
// registration belongs to start-up code.
//
// Exposition: families sorted by name, series by labels. Counters and
// gauges are `counter` and `gauge`. A Histogram is exposed as a `summary`:
// {quantile="0.5"}, "0.95", "0.99" and "1" (the max), then _sum and _count
// (quantiles are NaN while empty). A Prometheus `histogram` would need its
// ~500 buckets as series or a lossy regrouping; the node's own percentiles are
// what operators read, and JSON carries the same numbers for `nyx stats`.
// Both are cumulative since start.
//
// JSON: {"<name>": {"type": "counter"|"gauge"|"histogram", "help": "...",
//   "series": [{"labels": {...}, "value": N}]}} where a histogram series has
//   "count", "sum", "max", "p50", "p95", "p99" instead of "value".
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/metrics/counter.hpp"
#include "core/metrics/gauge.hpp"
#include "core/metrics/histogram.hpp"

namespace nyx::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {});

  std::string prometheus_text() const;
  std::string json() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family;

  // The family `name` of `type`, made if new; throws on a type clash or a bad name.
  Family& family(std::string_view name, std::string_view help, Type type);
  // The canonical (sorted, checked) form of labels; throws if they are bad.
  static Labels canonical(const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace nyx::metrics
