#include "cli/record_fields.hpp"

#include <algorithm>

#include "cli/table.hpp"

namespace nyx::cli {

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

bool is_record_list(const nlohmann::json& list) {
  return list.is_array() && std::all_of(list.begin(), list.end(),
                                        [](const nlohmann::json& r) { return r.is_object(); });
}

std::optional<std::uint64_t> natural_field(const nlohmann::json& result, std::string_view key) {
  const auto it = result.is_object() ? result.find(key) : result.end();
  if (it == result.end() || !it->is_number_integer() ||
      (!it->is_number_unsigned() && it->get<std::int64_t>() < 0)) {
    return std::nullopt;
  }
  return it->get<std::uint64_t>();
}

std::string natural_text(const nlohmann::json& result, std::string_view key) {
  const auto value = natural_field(result, key);
  return value ? std::to_string(*value) : "?";
}

}  // namespace nyx::cli
