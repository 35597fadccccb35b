#pragma once
// Parses a nyxd.toml given as text (named "nyxd.toml" in its errors), the
// one copy the configuration tests use; a reader that cannot take the text
// is a test failure.

#include <string>

#include <gtest/gtest.h>

#include "core/config.hpp"
#include "core/error.hpp"
#include "daemon/node_config.hpp"

namespace nyx::test {

inline Result<daemon::NodeConfig> parse_config_text(const std::string& text) {
  auto reader = ConfigReader::from_string(text, "nyxd.toml");
  EXPECT_TRUE(reader.has_value());
  return daemon::parse_node_config(*reader);
}

}  // namespace nyx::test
