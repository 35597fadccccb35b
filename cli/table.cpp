#include "cli/table.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <utility>

#include <fmt/format.h>

namespace nyx::cli {

Table::Table(std::vector<std::string> headers)
    : headers_(std::move(headers)), align_(headers_.size(), Align::kLeft) {}

void Table::set_align(std::size_t column, Align align) {
  if (column < align_.size()) {
    align_[column] = align;
  }
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  std::vector<std::size_t> width(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) {
    width[c] = headers_[c].size();
    for (const auto& row : rows_) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  const auto append_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) {
        line += "  ";
      }
      const std::size_t pad = width[c] - cells[c].size();
      if (align_[c] == Align::kRight) {
        line.append(pad, ' ');
        line += cells[c];
      } else {
        line += cells[c];
        line.append(pad, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line;
    out += '\n';
  };
  append_line(headers_);
  for (const auto& row : rows_) {
    append_line(row);
  }
  return out;
}

namespace {

// Three significant digits: "1.50", "15.0", "150".
std::string three_digits(double value) {
  if (value < 9.995) {
    return fmt::format("{:.2f}", value);
  }
  if (value < 99.95) {
    return fmt::format("{:.1f}", value);
  }
  return fmt::format("{:.0f}", value);
}

}  // namespace

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes) || bytes < 0) {
    return "-";
  }
  if (bytes < 1024) {
    return fmt::format("{:.0f} B", bytes);
  }
  static constexpr std::array<const char*, 5> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = bytes / 1024;
  std::size_t unit = 0;
  // Round first so 1023.9 KiB reads "1.00 MiB", not "1024 KiB".
  while (unit + 1 < kUnits.size() && value >= 1023.5) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{} {}", three_digits(value), kUnits[unit]);
}

std::string format_millis(double millis) {
  if (!std::isfinite(millis) || millis < 0) {
    return "-";
  }
  if (millis < 999.5) {
    return fmt::format("{} ms", three_digits(millis));
  }
  const double seconds = millis / 1000;
  if (seconds < 99.95) {
    return fmt::format("{} s", three_digits(seconds));
  }
  return fmt::format("{} min", three_digits(seconds / 60));
}

std::string format_count(std::uint64_t count) {
  std::string digits = fmt::format("{}", count);
  std::string out;
  const std::size_t lead = digits.size() % 3;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i + 3 - lead) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

std::string format_uptime(std::uint64_t seconds) {
  constexpr std::uint64_t kMinute = 60;
  constexpr std::uint64_t kHour = 60 * kMinute;
  constexpr std::uint64_t kDay = 24 * kHour;
  if (seconds < kMinute) {
    return fmt::format("{}s", seconds);
  }
  if (seconds < kHour) {
    return fmt::format("{}m {:02}s", seconds / kMinute, seconds % kMinute);
  }
  if (seconds < kDay) {
    return fmt::format("{}h {:02}m", seconds / kHour, seconds % kHour / kMinute);
  }
  return fmt::format("{}d {:02}h", seconds / kDay, seconds % kDay / kHour);
}

std::string format_utc(std::uint64_t unix_seconds) {
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm parts{};
  if (::gmtime_r(&seconds, &parts) == nullptr) {
    return fmt::format("{} (Unix time)", unix_seconds);
  }
  char text[32];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return std::string(text, n);
}

}  // namespace nyx::cli
