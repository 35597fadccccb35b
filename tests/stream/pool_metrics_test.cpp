#include "stream/pool_metrics.hpp"

#include <string>

#include <gtest/gtest.h>

namespace nyx::stream {
namespace {

TEST(PoolMetrics, ExportsInUseAndHighWaterPerClass) {
  metrics::Registry registry;
  PoolMetrics pool_metrics(registry);
  Buffer held = BufferPool::acquire(SizeClass::kLarge);
  pool_metrics.update();
  const std::string text = registry.prometheus_text();
  EXPECT_NE(text.find("nyx_stream_pool_in_use_bytes{class=\"large\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("nyx_stream_pool_high_water_bytes{class=\"small\"}"), std::string::npos);
  EXPECT_NE(text.find("nyx_stream_pool_free_bytes{class=\"medium\"}"), std::string::npos);
  const std::int64_t in_use =
      registry.gauge("nyx_stream_pool_in_use_bytes", "", {{"class", "large"}}).value();
  EXPECT_GE(in_use, static_cast<std::int64_t>(kLargeBufferSize));
  held.reset();
  pool_metrics.update();
  EXPECT_EQ(registry.gauge("nyx_stream_pool_in_use_bytes", "", {{"class", "large"}}).value(),
            in_use - static_cast<std::int64_t>(kLargeBufferSize));
}

}  // namespace
}  // namespace nyx::stream
