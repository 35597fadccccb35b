// A relay fed arbitrary cells: the input is cut into 1025-byte records, one
// byte choosing the neighbour it comes from (or a tick of the clock) and a
// cell. Covers the cell parser and every command path of the relay.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/clock.hpp"
#include "mix/relay.hpp"

namespace {

class NullLink final : public nyx::mix::CellLink {
 public:
  bool send_cell(const nyx::mix::PeerKey&, nyx::Bytes cell) override {
    return cell.size() == nyx::kCellSize;
  }
};

class CountingRandom final : public nyx::mix::RandomSource {
 public:
  std::uint64_t uniform(std::uint64_t bound) override {
    return (next_ += 0x9E3779B97F4A7C15ULL) % bound;
  }

 private:
  std::uint64_t next_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::array<std::uint8_t, 32> secret;
  secret.fill(0x42);
  nyx::ManualClock clock;
  NullLink link;
  CountingRandom random;
  nyx::mix::PeerKey self{};
  self.fill(0x10);
  nyx::mix::RelayConfig config;
  config.serves_directory = true;  // CREATE_DIR reaches its whole path
  nyx::mix::Relay relay(clock, link, self, random, config);
  relay.onion_keys().rotate(1, nyx::crypto::X25519KeyPair::from_secret(secret));
  std::vector<std::unique_ptr<nyx::mix::Circuit>> ends;
  relay.set_terminal_handler(
      [&](std::unique_ptr<nyx::mix::Circuit> c) { ends.push_back(std::move(c)); });
  relay.set_directory_handler(
      [&](std::unique_ptr<nyx::mix::Circuit> c) { ends.push_back(std::move(c)); });
  std::array<nyx::mix::PeerKey, 3> peers{};
  for (std::size_t i = 0; i < peers.size(); ++i) {
    peers[i].fill(static_cast<std::uint8_t>(0x20 + i));
  }
  const std::size_t record = 1 + nyx::kCellSize;
  for (std::size_t off = 0; off < size; off += record) {
    const std::uint8_t selector = data[off];
    const std::size_t len = std::min(record, size - off) - 1;
    if (selector >= 0xf0) {
      clock.advance(std::chrono::seconds(selector - 0xf0 + 1));
      relay.tick();
      continue;
    }
    // Short records are passed as they are: the parser must refuse them.
    relay.handle_cell(peers[selector % peers.size()], nyx::Bytes(data + off + 1, len));
    relay.flush();
  }
  return 0;
}
