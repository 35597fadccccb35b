#pragma once
// Test nodes for the mix layer: descriptors with real keys, and the secrets
// behind them, made deterministically from a small index.

#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/ed25519.hpp"
#include "core/crypto/x25519.hpp"
#include "document/descriptor.hpp"

namespace nyx::mix::testing {

struct TestNode {
  crypto::Ed25519KeyPair identity;
  crypto::X25519KeyPair onion;
  crypto::X25519KeyPair link;
  document::NodeDescriptor descriptor;
};

// Node `index` with keys derived from the index; an exit accepting *:* when
// `exit` is set.
TestNode make_test_node(int index, bool exit = false, std::string family = {},
                        std::uint32_t weight = 100);

// As make_test_node, but listed at the IP literal `ip` (IPv6 without
// brackets): UDP port 40000 + index, TCP port 41000 + index.
TestNode make_test_node_at(int index, std::string_view ip, bool exit = false,
                           std::string family = {}, std::uint32_t weight = 100);

}  // namespace nyx::mix::testing
