#include "core/metrics/process_metrics.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/assert.hpp"
#include "core/metrics/registry.hpp"

namespace nyx::metrics {
namespace {

double value_of(const nlohmann::json& families, const std::string& name) {
  EXPECT_TRUE(families.contains(name)) << name;
  const auto& value = families[name]["series"][0]["value"];
  EXPECT_TRUE(value.is_number()) << name << " is " << value.dump();
  return value.is_number() ? value.get<double>() : -1;
}

TEST(ProcessMetrics, PresentAndPlausible) {
  Registry registry;
  register_process_metrics(registry);
  const auto before = nlohmann::json::parse(registry.json());
  EXPECT_EQ(before["process_cpu_seconds_total"]["type"], "counter");
  EXPECT_EQ(before["process_resident_memory_bytes"]["type"], "gauge");

  const double rss = value_of(before, "process_resident_memory_bytes");
  EXPECT_GT(rss, 1 << 20);  // a gtest binary holds more than a MiB
  EXPECT_GE(value_of(before, "process_virtual_memory_bytes"), rss);
  const double fds = value_of(before, "process_open_fds");
  EXPECT_GE(fds, 3);  // stdin, stdout, stderr
  EXPECT_GE(value_of(before, "process_max_fds"), fds);
  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  const double started = value_of(before, "process_start_time_seconds");
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 3600);  // this test binary started within the hour

  // Read at scrape time: CPU time grows, one more open file shows.
  const double cpu = value_of(before, "process_cpu_seconds_total");
  EXPECT_GE(cpu, 0);
  volatile double spin = 0;
  for (int i = 0; i < 20'000'000; ++i) {
    spin = spin + 1;
  }
  std::FILE* extra = std::tmpfile();
  ASSERT_NE(extra, nullptr);
  const auto after = nlohmann::json::parse(registry.json());
  EXPECT_GT(value_of(after, "process_cpu_seconds_total"), cpu);
  EXPECT_EQ(value_of(after, "process_open_fds"), fds + 1);
  std::fclose(extra);

  EXPECT_EQ(after["nyx_bugs_total"]["type"], "counter");
  EXPECT_EQ(value_of(after, "nyx_bugs_total"), static_cast<double>(bug_count()));

  const std::string text = registry.prometheus_text();
  EXPECT_NE(text.find("\n# TYPE process_cpu_seconds_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nprocess_max_fds "), std::string::npos) << text;
}

}  // namespace
}  // namespace nyx::metrics
