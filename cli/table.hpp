#pragma once
// Table: text tables for people (aligned columns under a header), and the
// human units the CLI prints in them (KiB/MiB, ms, grouped counts).
//
// A value type built then rendered once; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nyx::cli {

class Table {
 public:
  enum class Align { kLeft, kRight };

  explicit Table(std::vector<std::string> headers);

  // Numbers read best right-aligned; every column starts left-aligned.
  void set_align(std::size_t column, Align align);
  // A row shorter than the header is padded with empty cells; extra cells are
  // dropped, so a row never shifts the columns.
  void add_row(std::vector<std::string> cells);

  std::size_t row_count() const noexcept { return rows_.size(); }

  // Header, then one line per row; columns two spaces apart, no trailing
  // spaces, every line ending in '\n'.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
};

// "0 B", "999 B", "1.0 KiB", "1.5 MiB", "2.00 GiB"... (binary units; three
// significant digits from KiB up).
std::string format_bytes(double bytes);
// "0.42 ms", "12.3 ms", "250 ms", "1.50 s", "2.5 min" from milliseconds.
std::string format_millis(double millis);
// "1,234,567": thousands grouped.
std::string format_count(std::uint64_t count);
// "2026-11-23 01:30:00 UTC" from Unix seconds.
std::string format_utc(std::uint64_t unix_seconds);
// A duration in seconds as "45s", "12m 03s", "5h 07m", "3d 04h".
std::string format_uptime(std::uint64_t seconds);

}  // namespace nyx::cli
