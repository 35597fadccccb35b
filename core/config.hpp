#pragma once
// The configuration reader: TOML text in, typed values out, every mistake
// reported with its place.
//
// core supplies the mechanism, not the node's schema: the daemon declares its
// own structs and fills them by asking a ConfigReader for typed values by
// dotted key ("socks.listen", "peers[2].address"), each with a default and a
// check. The reader collects every error instead of stopping at the first;
// each names the file, line and column and the key, e.g.
//   nyxd.toml:12:3: key 'socks.listen': expected "host:port", got 42
// After the schema has read what it knows, finish() reports every key present
// in the file that nothing asked for ("unknown key"), so a typo cannot be
// ignored silently, and returns all errors at once.
//
// Not thread-safe; one owner, at start-up. toml++ stays behind a pimpl so
// this header is cheap to include.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/host_port.hpp"

namespace nyx {

// A whole number followed by one unit: ns, us, ms, s, m or h ("250ms", "5s",
// "2m"). kParse on anything else or on overflow.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

class ConfigReader {
 public:
  // Errors: kIo when the file cannot be read, kConfig for TOML syntax errors
  // (with file:line:column). Relative paths read by get_path() resolve
  // against the file's directory.
  static Result<ConfigReader> from_file(const std::filesystem::path& path);
  // source_name stands for the file name in every error message; relative
  // paths resolve against the working directory.
  static Result<ConfigReader> from_string(std::string_view text, std::string source_name);

  ConfigReader(ConfigReader&&) noexcept;
  ConfigReader& operator=(ConfigReader&&) noexcept;
  ~ConfigReader();

  // Each getter returns the value at `key`, or `fallback` when the key is
  // absent. A present value of the wrong type, or out of range, records an
  // error and returns `fallback`. Every key asked for counts as known.
  std::string get_string(std::string_view key, std::string_view fallback);
  bool get_bool(std::string_view key, bool fallback);
  // Any integer type; the value must lie in [min, max].
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  T get_int(std::string_view key, T fallback, T min = std::numeric_limits<T>::min(),
            T max = std::numeric_limits<T>::max()) {
    return static_cast<T>(get_int64(key, static_cast<std::int64_t>(fallback), clamp_to_int64(min),
                                    clamp_to_int64(max)));
  }
  // An integer in the file is accepted as a double; NaN never is.
  double get_double(std::string_view key, double fallback,
                    double min = std::numeric_limits<double>::lowest(),
                    double max = std::numeric_limits<double>::max());
  // A string as parse_duration() reads it; must lie in [min, max].
  std::chrono::nanoseconds get_duration(
      std::string_view key, std::chrono::nanoseconds fallback,
      std::chrono::nanoseconds min = std::chrono::nanoseconds::zero(),
      std::chrono::nanoseconds max = std::chrono::nanoseconds::max());
  // An array whose elements are all strings.
  std::vector<std::string> get_string_list(std::string_view key, std::vector<std::string> fallback);
  // A string as parse_host_port() reads it.
  HostPort get_host_port(std::string_view key, HostPort fallback);
  // A non-empty string; relative paths are made absolute against the config
  // file's directory (see from_file / from_string).
  std::filesystem::path get_path(std::string_view key, std::filesystem::path fallback);

  // True when the key is present (does not mark it known).
  bool has(std::string_view key) const;
  // Records "missing" when the key is absent.
  void require(std::string_view key);
  // The number of tables in the array of tables `key` ([[key]] in TOML),
  // whose fields are then read as "key[0].field", "key[1].field", ... 0 when
  // absent; an error when present but not an array of tables.
  std::size_t table_count(std::string_view key);
  // Records a schema-level error (e.g. two settings that contradict each
  // other) at the place of `key`.
  void add_error(std::string_view key, std::string_view message);

  // Reports unknown keys, then returns every error recorded (kConfig, one
  // per line, in file order). Call once, after the schema has read all keys.
  Status finish();
  // The errors recorded so far, one message each.
  std::vector<std::string> errors() const;

 private:
  struct Impl;
  explicit ConfigReader(std::unique_ptr<Impl> impl) noexcept;

  template <std::integral T>
  static std::int64_t clamp_to_int64(T v) {
    if (std::cmp_greater(v, std::numeric_limits<std::int64_t>::max())) {
      return std::numeric_limits<std::int64_t>::max();
    }
    return static_cast<std::int64_t>(v);
  }
  std::int64_t get_int64(std::string_view key, std::int64_t fallback, std::int64_t min,
                         std::int64_t max);

  std::unique_ptr<Impl> impl_;
};

}  // namespace nyx
