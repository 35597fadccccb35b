#pragma once
// One field of a record in a control result (circuits.list, streams.list,
// circuits.newnym, ...) as the text a table cell or a line shows. A field
// that is absent or of another type shows as a placeholder, so a node's
// newer or older shape never throws.
//
// Free functions, no state; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace nyx::cli {

// Table cells; "-" when absent or of another type.
std::string count_cell(const nlohmann::json& record, std::string_view key);
std::string text_cell(const nlohmann::json& record, std::string_view key);
std::string millis_cell(const nlohmann::json& record, std::string_view key);
std::string bytes_cell(const nlohmann::json& record, std::string_view key);

// Whether `list` is an array of objects, the shape a table is made of.
bool is_record_list(const nlohmann::json& list);

// A count or time: any integer JSON holds that is not negative.
std::optional<std::uint64_t> natural_field(const nlohmann::json& result, std::string_view key);
// natural_field as text; "?" when there is none.
std::string natural_text(const nlohmann::json& result, std::string_view key);

}  // namespace nyx::cli
