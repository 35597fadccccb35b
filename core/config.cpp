#include "core/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace nyx {

namespace {

// A decimal number made only of digits (no sign, no spaces), as from_chars
// alone would accept "+1" in some modes and stop early on "1x".
template <class T>
bool parse_decimal(std::string_view text, T& out) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return fmt::format("{:?}", node.as_string()->get());  // quoted and escaped
    case toml::node_type::integer:
      return fmt::format("{}", node.as_integer()->get());
    case toml::node_type::floating_point:
      return fmt::format("{}", node.as_floating_point()->get());
    case toml::node_type::boolean:
      return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    std::int64_t nanos;
  };
  // Longest suffixes first so that "ms" is not read as "m" + junk.
  constexpr Unit kUnits[] = {{"ns", 1},
                             {"us", 1'000},
                             {"ms", 1'000'000},
                             {"s", 1'000'000'000},
                             {"m", 60'000'000'000},
                             {"h", 3'600'000'000'000}};
  for (const auto& unit : kUnits) {
    if (text.size() > unit.suffix.size() && text.ends_with(unit.suffix)) {
      std::int64_t count = 0;
      if (!parse_decimal(text.substr(0, text.size() - unit.suffix.size()), count)) {
        break;
      }
      if (count > std::numeric_limits<std::int64_t>::max() / unit.nanos) {
        return make_error(ErrorCategory::kParse, "duration too long");
      }
      return std::chrono::nanoseconds(count * unit.nanos);
    }
  }
  return make_error(ErrorCategory::kParse,
                    "expected a duration: a whole number and one of ns, us, ms, s, m, h "
                    "(e.g. \"250ms\")");
}

struct ConfigReader::Impl {
  struct Entry {
    std::uint32_t line = 0;  // 0: no place in the file (a missing key)
    std::uint32_t column = 0;
    std::string text;
  };

  toml::table root;
  std::string source;
  std::filesystem::path base_dir;
  std::set<std::string, std::less<>> known;
  std::vector<Entry> errors;

  const toml::node* find(std::string_view key) const { return root.at_path(key).node(); }

  // Marks the key known and returns its node, or nullptr when absent.
  const toml::node* lookup(std::string_view key) {
    known.emplace(key);
    return find(key);
  }

  void error_at(const toml::node* node, std::string_view key, std::string_view message) {
    Entry entry;
    if (node != nullptr) {
      entry.line = node->source().begin.line;
      entry.column = node->source().begin.column;
      entry.text =
          fmt::format("{}:{}:{}: key '{}': {}", source, entry.line, entry.column, key, message);
    } else {
      entry.text = fmt::format("{}: key '{}': {}", source, key, message);
    }
    errors.push_back(std::move(entry));
  }

  void expected(const toml::node& node, std::string_view key, std::string_view what) {
    error_at(&node, key, fmt::format("expected {}, got {}", what, describe(node)));
  }

  void add_unknown(const toml::source_position& where, const std::string& key) {
    Entry entry;
    entry.line = where.line;
    entry.column = where.column;
    entry.text = fmt::format("{}:{}:{}: unknown key '{}'", source, entry.line, entry.column, key);
    errors.push_back(std::move(entry));
  }

  void find_unknown(const toml::table& table, const std::string& prefix) {
    for (auto&& [name, node] : table) {
      const std::string key =
          prefix.empty() ? std::string(name.str()) : fmt::format("{}.{}", prefix, name.str());
      // The key's own place, not its value's: that is where a typo is.
      find_unknown_node(node, key, name.source().begin);
    }
  }

  bool known_below(const std::string& key) const {
    for (const char separator : {'.', '['}) {
      const std::string prefix = key + separator;
      const auto it = known.lower_bound(prefix);
      if (it != known.end() && it->starts_with(prefix)) {
        return true;
      }
    }
    return false;
  }

  void find_unknown_node(const toml::node& node, const std::string& key,
                         const toml::source_position& where) {
    if (known.contains(key)) {
      return;
    }
    // A table nothing was read from is one mistake (usually a misspelt
    // section name): report it once, not once per key inside.
    if (!known_below(key)) {
      add_unknown(where, key);
      return;
    }
    if (const auto* table = node.as_table(); table != nullptr && !table->empty()) {
      find_unknown(*table, key);
      return;
    }
    if (const auto* array = node.as_array(); array != nullptr && array->is_array_of_tables()) {
      for (std::size_t i = 0; i < array->size(); ++i) {
        const toml::node& element = *array->get(i);
        find_unknown_node(element, fmt::format("{}[{}]", key, i), element.source().begin);
      }
      return;
    }
    add_unknown(where, key);
  }
};

ConfigReader::ConfigReader(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ConfigReader::ConfigReader(ConfigReader&&) noexcept = default;
ConfigReader& ConfigReader::operator=(ConfigReader&&) noexcept = default;
ConfigReader::~ConfigReader() = default;

Result<ConfigReader> ConfigReader::from_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return make_error(ErrorCategory::kIo,
                      fmt::format("config {}: cannot open: {}", path.string(),
                                  std::generic_category().message(err)),
                      err);
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return make_error(ErrorCategory::kIo, fmt::format("config {}: read failed", path.string()));
  }
  auto reader = from_string(text.str(), path.string());
  if (reader) {
    reader->impl_->base_dir = std::filesystem::absolute(path).parent_path();
  }
  return reader;
}

Result<ConfigReader> ConfigReader::from_string(std::string_view text, std::string source_name) {
  auto impl = std::make_unique<Impl>();
  // toml++ reports syntax errors by exception; this is the only place one
  // can come from, and it becomes an Error here.
  try {
    impl->root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCategory::kConfig,
                      fmt::format("{}:{}:{}: {}", source_name, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
  impl->source = std::move(source_name);
  impl->base_dir = std::filesystem::current_path();
  return ConfigReader(std::move(impl));
}

std::string ConfigReader::get_string(std::string_view key, std::string_view fallback) {
  const auto* node = impl_->lookup(key);
  if (node == nullptr) {
    return std::string(fallback);
  }
  if (const auto* value = node->as_string()) {
    return value->get();
  }
  impl_->expected(*node, key, "a string");
  return std::string(fallback);
}

bool ConfigReader::get_bool(std::string_view key, bool fallback) {
  const auto* node = impl_->lookup(key);
  if (node == nullptr) {
    return fallback;
  }
  if (const auto* value = node->as_boolean()) {
    return value->get();
  }
  impl_->expected(*node, key, "true or false");
  return fallback;
}

std::int64_t ConfigReader::get_int64(std::string_view key, std::int64_t fallback, std::int64_t min,
                                     std::int64_t max) {
  const auto* node = impl_->lookup(key);
  if (node == nullptr) {
    return fallback;
  }
  const auto* value = node->as_integer();
  if (value == nullptr) {
    impl_->expected(*node, key, "an integer");
    return fallback;
  }
  if (value->get() < min || value->get() > max) {
    impl_->error_at(node, key, fmt::format("{} is out of range [{}, {}]", value->get(), min, max));
    return fallback;
  }
  return value->get();
}

double ConfigReader::get_double(std::string_view key, double fallback, double min, double max) {
  const auto* node = impl_->lookup(key);
  if (node == nullptr) {
    return fallback;
  }
  double number = 0;
  if (const auto* f = node->as_floating_point()) {
    number = f->get();
  } else if (const auto* i = node->as_integer()) {
    number = static_cast<double>(i->get());
  } else {
    impl_->expected(*node, key, "a number");
    return fallback;
  }
  if (std::isnan(number) || number < min || number > max) {
    impl_->error_at(node, key, fmt::format("{} is out of range [{}, {}]", number, min, max));
    return fallback;
  }
  return number;
}

std::chrono::nanoseconds ConfigReader::get_duration(std::string_view key,
                                                    std::chrono::nanoseconds fallback,
                                                    std::chrono::nanoseconds min,
                                                    std::chrono::nanoseconds max) {
  const auto* node = impl_->lookup(key);
  if (node == nullptr) {
    return fallback;
  }
  const auto* text = node->as_string();
  if (text == nullptr) {
    impl_->expected(*node, key, "a duration like \"250ms\"");
    return fallback;
  }
  auto duration = parse_duration(text->get());
  if (!duration) {
    impl_->error_at(node, key,
                    fmt::format("{}, got {}", duration.error().message, describe(*node)));
    return fallback;
  }
  if (*duration < min || *duration > max) {
    impl_->error_at(
        node, key,
        fmt::format("{} is out of range [{}ns, {}ns]", text->get(), min.count(), max.count()));
    return fallback;
  }
  return *duration;
}

std::vector<std::string> ConfigReader::get_string_list(std::string_view key,
                                                       std::vector<std::string> fallback) {
  const auto* node = impl_->lookup(key);
  if (node == nullptr) {
    return fallback;
  }
  const auto* array = node->as_array();
  if (array == nullptr) {
    impl_->expected(*node, key, "a list of strings");
    return fallback;
  }
  std::vector<std::string> out;
  out.reserve(array->size());
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto& element = *array->get(i);
    if (const auto* text = element.as_string()) {
      out.push_back(text->get());
    } else {
      impl_->expected(element, fmt::format("{}[{}]", key, i), "a string");
      ok = false;
    }
  }
  return ok ? out : fallback;
}

HostPort ConfigReader::get_host_port(std::string_view key, HostPort fallback) {
  const auto* node = impl_->lookup(key);
  if (node == nullptr) {
    return fallback;
  }
  const auto* text = node->as_string();
  if (text == nullptr) {
    impl_->expected(*node, key, "\"host:port\"");
    return fallback;
  }
  auto endpoint = parse_host_port(text->get());
  if (!endpoint) {
    impl_->error_at(node, key,
                    fmt::format("{}, got {}", endpoint.error().message, describe(*node)));
    return fallback;
  }
  return *std::move(endpoint);
}

std::filesystem::path ConfigReader::get_path(std::string_view key, std::filesystem::path fallback) {
  const auto* node = impl_->lookup(key);
  if (node == nullptr) {
    return fallback;
  }
  const auto* text = node->as_string();
  if (text == nullptr || text->get().empty()) {
    impl_->expected(*node, key, "a file path");
    return fallback;
  }
  if (text->get().find('\0') != std::string::npos) {
    impl_->error_at(node, key, "a path cannot contain a NUL character");
    return fallback;
  }
  std::filesystem::path path(text->get());
  return path.is_absolute() ? path : impl_->base_dir / path;
}

bool ConfigReader::has(std::string_view key) const { return impl_->find(key) != nullptr; }

void ConfigReader::require(std::string_view key) {
  if (impl_->lookup(key) == nullptr) {
    impl_->error_at(nullptr, key, "missing (required)");
  }
}

std::size_t ConfigReader::table_count(std::string_view key) {
  const auto* node = impl_->find(key);
  if (node == nullptr) {
    return 0;
  }
  const auto* array = node->as_array();
  if (array == nullptr || (!array->empty() && !array->is_array_of_tables())) {
    impl_->known.emplace(key);
    impl_->expected(*node, key, "an array of tables ([[...]])");
    return 0;
  }
  if (array->empty()) {
    impl_->known.emplace(key);
  }
  return array->size();
}

void ConfigReader::add_error(std::string_view key, std::string_view message) {
  impl_->error_at(impl_->find(key), key, message);
}

Status ConfigReader::finish() {
  impl_->find_unknown(impl_->root, "");
  std::stable_sort(impl_->errors.begin(), impl_->errors.end(),
                   [](const Impl::Entry& a, const Impl::Entry& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  if (impl_->errors.empty()) {
    return {};
  }
  std::string message;
  for (const auto& entry : impl_->errors) {
    if (!message.empty()) {
      message += '\n';
    }
    message += entry.text;
  }
  return make_error(ErrorCategory::kConfig, std::move(message));
}

std::vector<std::string> ConfigReader::errors() const {
  std::vector<std::string> out;
  out.reserve(impl_->errors.size());
  for (const auto& entry : impl_->errors) {
    out.push_back(entry.text);
  }
  return out;
}

}  // namespace nyx
