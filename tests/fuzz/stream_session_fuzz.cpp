// libFuzzer target for a whole stream session: the input is a sequence of
// datagrams (each a 1-byte length then that many bytes) fed to a responder
// session, with time moving on and the session polled for output, timers
// and events after each. Whatever the peer sends, the session must not
// crash, leak or read out of bounds; reading every readable stream
// exercises reassembly.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "stream/session.hpp"

using nyx::Bytes;
using nyx::MutableBytes;
using nyx::Nanos;
using namespace nyx::stream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SessionConfig config;
  config.initial_max_stream_data = 4096;
  config.initial_max_data = 16384;
  Session session(Role::kResponder, config, Nanos{0});
  Nanos now{0};
  std::array<std::uint8_t, 1200> out{};
  std::array<std::uint8_t, 512> sink{};
  std::size_t pos = 0;
  while (pos < size) {
    const std::size_t len = std::min<std::size_t>(data[pos], size - pos - 1);
    session.handle_datagram(Bytes{data + pos + 1, len}, now);
    pos += 1 + len;
    now += std::chrono::milliseconds(3);
    while (session.poll_transmit(MutableBytes{out.data(), out.size()}, now) > 0) {
    }
    if (auto d = session.next_deadline(); d && *d <= now) {
      session.handle_timeout(now);
    }
    while (auto e = session.poll_event()) {
      if (e->type == EventType::kReadable) {
        (void)session.read(e->stream, MutableBytes{sink.data(), sink.size()});
      } else if (e->type == EventType::kIncoming) {
        (void)session.write(e->stream, Bytes{sink.data(), 100});
        (void)session.finish(e->stream);
      }
    }
  }
  return 0;
}
