#include "cli/table.hpp"

#include <gtest/gtest.h>

namespace nyx::cli {
namespace {

TEST(Table, AlignsColumnsUnderTheHeader) {
  Table table({"NAME", "BYTES"});
  table.set_align(1, Table::Align::kRight);
  table.add_row({"entry", "1"});
  table.add_row({"x", "12345"});
  EXPECT_EQ(table.render(),
            "NAME   BYTES\n"
            "entry      1\n"
            "x      12345\n");
}

TEST(Table, PadsShortRowsAndDropsExtraCells) {
  Table table({"A", "B"});
  table.add_row({"only"});
  table.add_row({"1", "2", "3"});
  EXPECT_EQ(table.row_count(), 2u);
  EXPECT_EQ(table.render(),
            "A     B\n"
            "only\n"
            "1     2\n");
}

TEST(Table, HeaderOnlyWhenEmpty) { EXPECT_EQ(Table({"X", "Y"}).render(), "X  Y\n"); }

TEST(FormatBytes, UsesBinaryUnitsWithThreeDigits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.00 KiB");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(100 * 1024 * 1024), "100 MiB");
  EXPECT_EQ(format_bytes(1024.0 * 1024 - 1), "1.00 MiB");
  EXPECT_EQ(format_bytes(3.0 * 1024 * 1024 * 1024), "3.00 GiB");
  EXPECT_EQ(format_bytes(-1), "-");
}

TEST(FormatMillis, PicksMillisecondsSecondsOrMinutes) {
  EXPECT_EQ(format_millis(0.423), "0.42 ms");
  EXPECT_EQ(format_millis(12.34), "12.3 ms");
  EXPECT_EQ(format_millis(250), "250 ms");
  EXPECT_EQ(format_millis(1500), "1.50 s");
  EXPECT_EQ(format_millis(150'000), "2.50 min");
}

TEST(FormatCount, GroupsThousands) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(1000), "1,000");
  EXPECT_EQ(format_count(123456), "123,456");
  EXPECT_EQ(format_count(1234567), "1,234,567");
}

TEST(FormatUptime, ShowsTheTwoLargestUnits) {
  EXPECT_EQ(format_uptime(45), "45s");
  EXPECT_EQ(format_uptime(12 * 60 + 3), "12m 03s");
  EXPECT_EQ(format_uptime(5 * 3600 + 7 * 60 + 9), "5h 07m");
  EXPECT_EQ(format_uptime(3 * 86400 + 4 * 3600), "3d 04h");
}

TEST(FormatUtc, PrintsUtcCalendarTime) {
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(format_utc(1'800'000'000), "2027-01-15 08:00:00 UTC");
}

}  // namespace
}  // namespace nyx::cli
