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
// Names start with `nyx_`, or `process_` for the process metrics every
// Prometheus client library exports under those names, and match
// [a-zA-Z_:][a-zA-Z0-9_:]*; label names match [a-zA-Z_][a-zA-Z0-9_]*, do not
// start with `__`, do not repeat, and `le` is reserved (histogram buckets).
// Label values are free text (escaped on output), so peer-supplied values
// are safe. Labels are compared as a set: their order at registration does
// not matter. The same name and labels give back the same object; the help
// text of a family is the one it was first given, and so are a histogram
// family's bucket bounds.
//
// A bad name, a bad label name, a name reused with another type, or a
// histogram registered again with other bounds is a programming error:
// registration throws std::invalid_argument, which is why registration
// belongs to start-up code.
//
// Exposition: families sorted by name, series by labels. Counters, gauges
// and histograms have their Prometheus types; a histogram series is
// name_bucket{le="..."} (cumulative, ending with le="+Inf", equal to the
// count), name_sum and name_count. A *_from metric is read from its function
// at exposition, under the registry's lock, on the exposing thread.
//
// JSON: {"<name>": {"type": "counter"|"gauge"|"histogram", "help": "...",
//   "series": [{"labels": {...}, "value": N}]}} where a histogram series has
//   "count", "sum" and "buckets": [{"le": bound, "count": cumulative}, ...]
//   instead of "value" (finite bounds only: the +Inf bucket is "count").
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/metrics/bucket_histogram.hpp"
#include "core/metrics/counter.hpp"
#include "core/metrics/gauge.hpp"

namespace nyx::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;
// Reads a metric's value at exposition; must be thread-safe and quick.
using ValueFunction = std::function<double()>;

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  // bounds: the finite upper bounds of the buckets (see BucketHistogram).
  BucketHistogram& histogram(std::string_view name, std::string_view help,
                             const std::vector<double>& bounds, const Labels& labels = {});
  // A counter or gauge whose value `read` gives at exposition (for values the
  // node does not hold, such as the process's CPU time). Registering the same
  // name and labels again replaces the function.
  void counter_from(std::string_view name, std::string_view help, ValueFunction read,
                    const Labels& labels = {});
  void gauge_from(std::string_view name, std::string_view help, ValueFunction read,
                  const Labels& labels = {});

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
