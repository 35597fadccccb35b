#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "stream/buffer_pool.hpp"
#include "stream/frame.hpp"
#include "stream/session.hpp"
#include "stream/session_driver.hpp"
#include "tests/stream/support/session_pair.hpp"

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;
using testing::LinkConfig;
using testing::SessionPair;

LinkConfig lossy_link() {
  LinkConfig link;
  link.loss_permille = 20;
  link.duplicate_permille = 10;
  link.reorder_permille = 50;
  link.delay = 10ms;
  return link;
}

// Runs the pair until pred() holds or simulated time runs out.
template <class Pred>
bool run_until(SessionPair& pair, Pred pred, Nanos limit = 120s) {
  const Nanos end = pair.clock().now() + limit;
  while (!pred()) {
    if (!pair.step() || pair.clock().now() > end) {
      return pred();
    }
  }
  return true;
}

std::vector<Event> drain(Session& s) {
  std::vector<Event> out;
  while (auto e = s.poll_event()) {
    out.push_back(*e);
  }
  return out;
}

bool has_event(const std::vector<Event>& events, EventType type, StreamId id) {
  for (const Event& e : events) {
    if (e.type == type && e.stream == id) {
      return true;
    }
  }
  return false;
}

std::size_t read_everything(Session& s, StreamId id, bool* fin = nullptr) {
  std::array<std::uint8_t, 16384> buf{};
  std::size_t total = 0;
  for (;;) {
    auto r = s.read(id, MutableBytes{buf.data(), buf.size()});
    if (!r) {
      return total;
    }
    total += r->bytes;
    if (fin != nullptr && r->fin) {
      *fin = true;
    }
    if (r->bytes == 0) {
      return total;
    }
  }
}

TEST(Session, ResetMidTransferReachesThePeerAndBothSidesClose) {
  SessionPair pair(SessionConfig{}, lossy_link(), 1);
  const StreamId id = *pair.client().open_stream();
  std::vector<std::uint8_t> data(100'000, 7);
  ASSERT_EQ(*pair.client().write(id, Bytes{data.data(), data.size()}), data.size());
  std::size_t received = 0;
  std::vector<Event> server_events;
  ASSERT_TRUE(run_until(pair, [&] {
    for (const Event& e : drain(pair.server())) {
      server_events.push_back(e);
    }
    received += read_everything(pair.server(), id);
    return received >= 20'000;
  }));
  ASSERT_TRUE(pair.client().reset(id, 7).has_value());
  EXPECT_FALSE(pair.client().write(id, Bytes{data.data(), 1}).has_value());
  std::uint64_t reset_code = 0;
  ASSERT_TRUE(run_until(pair, [&] {
    for (const Event& e : drain(pair.server())) {
      if (e.type == EventType::kStreamReset && e.stream == id) {
        reset_code = e.code;
      }
    }
    return reset_code != 0;
  }));
  EXPECT_EQ(reset_code, 7u);
  EXPECT_FALSE(pair.server().read(id, MutableBytes{data.data(), 10}).has_value() &&
               pair.server().open_streams() == 0);
  // The server ends its own direction; then the stream is gone on both sides.
  ASSERT_TRUE(pair.server().finish(id).has_value());
  std::vector<Event> client_events;
  ASSERT_TRUE(run_until(pair, [&] {
    for (const Event& e : drain(pair.client())) {
      client_events.push_back(e);
    }
    read_everything(pair.client(), id);
    return pair.client().open_streams() == 0 && pair.server().open_streams() == 0;
  }));
  EXPECT_TRUE(has_event(client_events, EventType::kStreamClosed, id));
}

TEST(Session, StopSendingMakesThePeerReset) {
  SessionPair pair(SessionConfig{}, lossy_link(), 2);
  const StreamId id = *pair.client().open_stream();
  std::vector<std::uint8_t> data(50'000, 1);
  ASSERT_TRUE(pair.client().write(id, Bytes{data.data(), data.size()}).has_value());
  ASSERT_TRUE(run_until(pair, [&] { return !drain(pair.server()).empty(); }));
  ASSERT_TRUE(pair.server().stop_sending(id, 9).has_value());
  std::uint64_t code = 0;
  ASSERT_TRUE(run_until(pair, [&] {
    for (const Event& e : drain(pair.client())) {
      if (e.type == EventType::kStopSending) {
        code = e.code;
      }
    }
    return code != 0;
  }));
  EXPECT_EQ(code, 9u);
  auto write = pair.client().write(id, Bytes{data.data(), 1});
  ASSERT_FALSE(write.has_value());
  EXPECT_EQ(write.error().category, ErrorCategory::kClosed);
}

TEST(Session, ASlowReaderStallsTheSenderWithBoundedMemory) {
  SessionConfig config;
  SessionPair pair(config, lossy_link(), 3);
  const std::size_t in_use_before = BufferPool::in_use_bytes();
  const StreamId id = *pair.client().open_stream();
  std::vector<std::uint8_t> chunk(64 * 1024, 3);
  std::uint64_t taken = 0;
  std::size_t peak = 0;
  // The reader never reads: the sender runs dry at the window, however long
  // it keeps trying.
  run_until(
      pair,
      [&] {
        taken += *pair.client().write(id, Bytes{chunk.data(), chunk.size()});
        peak = std::max(peak, BufferPool::in_use_bytes() - in_use_before);
        return false;
      },
      20s);
  EXPECT_EQ(taken, config.initial_max_stream_data);
  // Sender's copy plus receiver's copy of one window, in 16 KiB chunks.
  EXPECT_LE(peak, 2 * config.initial_max_stream_data + 4 * kMediumBufferSize);
  // Once the reader drains, the rest flows.
  std::uint64_t received = 0;
  const std::uint64_t total = 4u << 20;
  ASSERT_TRUE(run_until(pair, [&] {
    if (taken < total) {
      taken += *pair.client().write(
          id, Bytes{chunk.data(), static_cast<std::size_t>(
                                      std::min<std::uint64_t>(chunk.size(), total - taken))});
    }
    drain(pair.client());
    drain(pair.server());
    received += read_everything(pair.server(), id);
    peak = std::max(peak, BufferPool::in_use_bytes() - in_use_before);
    return received == total;
  }));
  // Windows grow while data flows, but memory stays bounded by them, not by
  // the transfer size.
  EXPECT_LE(peak, 2 * config.max_stream_data_window + 8 * kMediumBufferSize);
}

TEST(Session, IdleTimeoutClosesWhenThePeerGoesSilent) {
  SessionConfig config;
  config.idle_timeout = 5s;
  SessionPair pair(config, LinkConfig{}, 4);
  const StreamId id = *pair.client().open_stream();
  ASSERT_TRUE(pair.client().write(id, as_bytes("ping")).has_value());
  ASSERT_TRUE(run_until(pair, [&] { return !drain(pair.server()).empty(); }));
  pair.link().cut();
  const Nanos cut_at = pair.clock().now();
  ASSERT_TRUE(run_until(
      pair, [&] { return pair.client().is_closed(); }, 60s));
  ASSERT_TRUE(pair.client().close_error().has_value());
  EXPECT_EQ(pair.client().close_error()->category, ErrorCategory::kTimeout);
  EXPECT_GE(pair.clock().now() - cut_at, 4s);
  EXPECT_LE(pair.clock().now() - cut_at, 6s);
  EXPECT_FALSE(pair.client().write(id, as_bytes("x")).has_value());
}

TEST(Session, APeerThatStopsAcknowledgingIsGoneAfterTheProbeLimit) {
  SessionConfig config;
  config.idle_timeout = 60s;
  SessionPair pair(config, LinkConfig{.delay = 10ms}, 6);
  const StreamId id = *pair.client().open_stream();
  ASSERT_TRUE(pair.client().write(id, as_bytes("ping")).has_value());
  ASSERT_TRUE(run_until(pair, [&] { return !drain(pair.server()).empty(); }));
  // A measured round trip (20 ms), not the initial guess, sets the probe timeout.
  ASSERT_TRUE(run_until(pair, [&] { return pair.client().smoothed_rtt() < 50ms; }));
  pair.link().cut();
  ASSERT_TRUE(pair.client().write(id, as_bytes("more")).has_value());
  const Nanos cut_at = pair.clock().now();
  ASSERT_TRUE(run_until(
      pair, [&] { return pair.client().is_closed(); }, 60s));
  ASSERT_TRUE(pair.client().close_error().has_value());
  EXPECT_EQ(pair.client().close_error()->category, ErrorCategory::kTimeout);
  EXPECT_EQ(pair.client().close_error()->message, "peer unresponsive");
  EXPECT_EQ(pair.client().stats().pto_count, config.max_probe_timeouts);
  // 63 probe intervals of about 65 ms: seconds, not the idle timeout's minute.
  EXPECT_LE(pair.clock().now() - cut_at, 6s);
}

// How long a session whose peer never answers takes to close, from its first
// write: nothing is ever acknowledged, so only `initial_rtt` sets the PTOs.
Nanos silent_peer_close_time(Nanos initial_rtt) {
  SessionConfig config;
  config.idle_timeout = 3600s;
  config.keep_alive = 3600s;
  config.initial_rtt = initial_rtt;
  SessionPair pair(config, LinkConfig{.delay = 1ms}, 6);
  pair.link().cut();
  const StreamId id = *pair.client().open_stream();
  EXPECT_TRUE(pair.client().write(id, as_bytes("open request")).has_value());
  const Nanos start = pair.clock().now();
  EXPECT_TRUE(run_until(
      pair, [&] { return pair.client().is_closed(); }, 3600s));
  EXPECT_EQ(pair.client().close_error()->message, "peer unresponsive");
  return pair.clock().now() - start;
}

TEST(Session, AKnownRoundTripFindsAPeerDeadFromTheStartSooner) {
  // A stream opened on a circuit that died after it was built: the default
  // guess (100 ms, PTO 305 ms) takes about 19 s; the circuit's own setup
  // round trip (4 ms here, PTO 4 + 8 + 5 = 17 ms) about a second.
  const Nanos guessed = silent_peer_close_time(stream::RttEstimator::kInitialRtt);
  const Nanos known = silent_peer_close_time(4ms);
  EXPECT_GE(guessed, 63 * 305ms);
  EXPECT_LE(guessed, 63 * 305ms + 1s);
  EXPECT_GE(known, 63 * 17ms);
  EXPECT_LE(known, 63 * 17ms + 100ms);
}

// How long after a peer falls silent the probe limit closes the session, on
// a link of `one_way` delay each way (keep-alive and idle timeout out of
// the way, so only the probe timeouts count).
Nanos probe_limit_close_time(Nanos one_way) {
  SessionConfig config;
  config.idle_timeout = 3600s;
  config.keep_alive = 3600s;
  SessionPair pair(config, LinkConfig{.delay = one_way}, 6);
  const StreamId id = *pair.client().open_stream();
  for (int i = 0; i < 8; ++i) {  // a few round trips of RTT samples
    EXPECT_TRUE(pair.client().write(id, as_bytes("ping")).has_value());
    const std::uint64_t before = pair.client().stats().packets_received;
    EXPECT_TRUE(run_until(
        pair, [&] { return pair.client().stats().packets_received > before; }, 60s));
  }
  pair.link().cut();
  EXPECT_TRUE(pair.client().write(id, as_bytes("more")).has_value());
  const Nanos cut_at = pair.clock().now();
  EXPECT_TRUE(run_until(
      pair, [&] { return pair.client().is_closed(); }, 3600s));
  EXPECT_EQ(pair.client().close_error()->message, "peer unresponsive");
  return pair.clock().now() - cut_at;
}

TEST(Session, TheProbeLimitIsRelativeToTheRoundTrip) {
  // The PTO is at least the smoothed RTT (itself no less than the path's),
  // at most about 3 RTT + 6 ms with rttvar <= RTT / 2; the close comes
  // after 63 of them (1 + 2 + ... + 32, the backoff).
  for (const Nanos one_way : {Nanos{10ms}, Nanos{100ms}, Nanos{300ms}}) {
    const Nanos rtt = 2 * one_way;
    const Nanos took = probe_limit_close_time(one_way);
    EXPECT_GE(took, 63 * rtt) << one_way.count();
    EXPECT_LE(took, 63 * (3 * rtt + 6ms)) << one_way.count();
  }
}

TEST(Session, StreamLimitIsEnforcedAndReleased) {
  SessionConfig config;
  config.max_concurrent_streams = 4;
  SessionPair pair(config, LinkConfig{}, 5);
  std::vector<StreamId> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(*pair.client().open_stream());
  }
  auto fifth = pair.client().open_stream();
  ASSERT_FALSE(fifth.has_value());
  EXPECT_EQ(fifth.error().category, ErrorCategory::kResourceExhausted);
  EXPECT_EQ(fifth.error().code, static_cast<int>(SessionError::kStreamLimit));
  // Finish one stream both ways; the server then raises the limit.
  ASSERT_TRUE(pair.client().finish(ids[0]).has_value());
  bool server_finished = false;
  bool available = false;
  ASSERT_TRUE(run_until(pair, [&] {
    for (const Event& e : drain(pair.server())) {
      if (e.type == EventType::kReadable && e.stream == ids[0]) {
        bool fin = false;
        read_everything(pair.server(), ids[0], &fin);
        if (fin && !server_finished) {
          server_finished = pair.server().finish(ids[0]).has_value();
        }
      }
    }
    for (const Event& e : drain(pair.client())) {
      if (e.type == EventType::kReadable) {
        read_everything(pair.client(), e.stream);
      }
      available |= e.type == EventType::kStreamsAvailable;
    }
    return available;
  }));
  EXPECT_TRUE(pair.client().open_stream().has_value());
}

TEST(Session, PeerBreakingTheWindowIsAProtocolError) {
  Session s(Role::kResponder, SessionConfig{}, Nanos{0});
  std::array<std::uint8_t, 64> buf{};
  ByteWriter w(MutableBytes{buf.data(), buf.size()});
  encode_packet_header(w, 0);
  // Stream 0 (the initiator's first) at an offset far beyond the window.
  encode_stream(w, 0, 1u << 30, as_bytes("x"), false);
  s.handle_datagram(w.written(), Nanos{1});
  ASSERT_TRUE(s.is_closed());
  EXPECT_EQ(s.close_error()->code, static_cast<int>(SessionError::kFlowControl));
  // It tells the peer why.
  std::array<std::uint8_t, 990> out{};
  const std::size_t n = s.poll_transmit(MutableBytes{out.data(), out.size()}, Nanos{2});
  ASSERT_GT(n, 0u);
  auto header = decode_packet_header(Bytes{out.data(), n});
  FrameDecoder d(header->frames);
  Frame f;
  ASSERT_TRUE(*d.next(f));
  EXPECT_EQ(f.type, FrameType::kClose);
  EXPECT_EQ(f.value, static_cast<std::uint64_t>(SessionError::kFlowControl));
}

TEST(Session, GarbageAndForbiddenStreamsCloseTheSession) {
  {
    Session s(Role::kResponder, SessionConfig{}, Nanos{0});
    const std::uint8_t garbage[] = {0x00, 0x3f, 0x01};
    s.handle_datagram(Bytes{garbage, sizeof garbage}, Nanos{1});
    ASSERT_TRUE(s.is_closed());
    EXPECT_EQ(s.close_error()->code, static_cast<int>(SessionError::kFrameEncoding));
  }
  {
    // The responder never opened stream 1, so the initiator may not send on it.
    Session s(Role::kResponder, SessionConfig{}, Nanos{0});
    std::array<std::uint8_t, 64> buf{};
    ByteWriter w(MutableBytes{buf.data(), buf.size()});
    encode_packet_header(w, 0);
    encode_stream(w, 1, 0, as_bytes("x"), false);
    s.handle_datagram(w.written(), Nanos{1});
    ASSERT_TRUE(s.is_closed());
    EXPECT_EQ(s.close_error()->code, static_cast<int>(SessionError::kStreamState));
  }
  {
    SessionConfig config;
    config.max_concurrent_streams = 2;
    Session s(Role::kResponder, config, Nanos{0});
    std::array<std::uint8_t, 64> buf{};
    ByteWriter w(MutableBytes{buf.data(), buf.size()});
    encode_packet_header(w, 0);
    encode_stream(w, 8, 0, as_bytes("x"), false);  // the third stream
    s.handle_datagram(w.written(), Nanos{1});
    ASSERT_TRUE(s.is_closed());
    EXPECT_EQ(s.close_error()->code, static_cast<int>(SessionError::kStreamLimit));
  }
}

TEST(Session, CloseReachesThePeer) {
  SessionPair pair(SessionConfig{}, LinkConfig{}, 6);
  const StreamId id = *pair.client().open_stream();
  ASSERT_TRUE(pair.client().write(id, as_bytes("hello")).has_value());
  ASSERT_TRUE(run_until(pair, [&] { return !drain(pair.server()).empty(); }));
  pair.server().close(42, "going away");
  ASSERT_TRUE(run_until(pair, [&] { return pair.client().is_closed(); }));
  EXPECT_EQ(pair.client().close_error()->category, ErrorCategory::kClosed);
  EXPECT_EQ(pair.client().close_error()->code, 42);
  EXPECT_NE(pair.client().close_error()->message.find("going away"), std::string::npos);
}

TEST(Session, DuplicatesAreIgnored) {
  Session s(Role::kResponder, SessionConfig{}, Nanos{0});
  std::array<std::uint8_t, 64> buf{};
  ByteWriter w(MutableBytes{buf.data(), buf.size()});
  encode_packet_header(w, 0);
  encode_stream(w, 0, 0, as_bytes("abc"), false);
  s.handle_datagram(w.written(), Nanos{1});
  s.handle_datagram(w.written(), Nanos{2});
  EXPECT_EQ(s.stats().packets_received, 1u);
  EXPECT_EQ(s.stats().duplicates, 1u);
  std::array<std::uint8_t, 16> out{};
  auto r = s.read(0, MutableBytes{out.data(), out.size()});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->bytes, 3u);
}

}  // namespace
}  // namespace nyx::stream

namespace nyx::stream {
namespace {

// Moves `total` bytes on one stream and returns the most pool memory in use
// at any point.
std::size_t bulk_transfer_peak(std::uint64_t total, std::size_t queue_limit) {
  LinkConfig link;
  link.loss_permille = 5;
  link.delay = 2ms;
  link.queue_limit = queue_limit;
  SessionPair pair(SessionConfig{}, link, 11);
  const std::size_t before = BufferPool::in_use_bytes();
  const StreamId id = *pair.client().open_stream();
  std::vector<std::uint8_t> chunk(64 * 1024, 5);
  std::uint64_t taken = 0;
  std::uint64_t received = 0;
  std::size_t peak = 0;
  const bool done = run_until(
      pair,
      [&] {
        if (taken < total) {
          taken += *pair.client().write(
              id, Bytes{chunk.data(), static_cast<std::size_t>(
                                          std::min<std::uint64_t>(chunk.size(), total - taken))});
        }
        drain(pair.client());
        drain(pair.server());
        received += read_everything(pair.server(), id);
        peak = std::max(peak, BufferPool::in_use_bytes() - before);
        return received == total;
      },
      600s);
  EXPECT_TRUE(done) << received << " of " << total;
  return peak;
}

TEST(Session, MemoryStaysFlatWithTransferSize) {
  // 16 MiB: long enough for BBR-N to reach its steady window, so the two
  // peaks compare the same state.
  const std::size_t small = bulk_transfer_peak(16u << 20, 1u << 16);
  const std::size_t large = bulk_transfer_peak(64u << 20, 1u << 16);
  // Bounded by the windows, not by the bytes moved.
  EXPECT_LE(large, small + 8 * kMediumBufferSize) << "16 MiB peak " << small;
  EXPECT_LE(large, 2 * SessionConfig{}.max_stream_data_window + 8 * kMediumBufferSize);
}

TEST(SessionDriver, AClosedChannelIsReported) {
  ManualClock clock;
  testing::SimLink link(LinkConfig{}, 1, clock);
  Session session(Role::kInitiator, SessionConfig{}, clock.now());
  SessionDriver driver(session, link.a(), clock);
  const StreamId id = *session.open_stream();
  ASSERT_TRUE(session.write(id, as_bytes("data")).has_value());
  link.a().closed = true;
  EXPECT_EQ(driver.flush(), SendOutcome::kClosed);
}

// No head-of-line blocking across streams (issue 12): stream A's first
// datagram is lost; stream B's data, sent just after it, is readable at the
// peer one one-way delay later, while A's bytes wait for their repair, which
// cannot come before a round trip has passed.
TEST(Session, ALossOnOneStreamDoesNotHoldUpAnother) {
  LinkConfig link;
  link.delay = 50ms;
  SessionPair pair(SessionConfig{}, link, 7);
  auto a = pair.client().open_stream();
  auto b = pair.client().open_stream();
  ASSERT_TRUE(a && b);
  const std::vector<std::uint8_t> payload(600, 0x61);

  ASSERT_EQ(*pair.client().write(*a, Bytes{payload.data(), payload.size()}), payload.size());
  pair.link().drop_next(pair.link().a());
  const std::uint64_t before = pair.link().sent();
  ASSERT_TRUE(pair.step());
  ASSERT_GT(pair.link().sent(), before) << "A's data did not leave";

  const Nanos b_sent = pair.clock().now();
  ASSERT_EQ(*pair.client().write(*b, Bytes{payload.data(), payload.size()}), payload.size());
  std::size_t b_read = 0;
  std::size_t a_read = 0;
  ASSERT_TRUE(run_until(pair, [&] {
    b_read += read_everything(pair.server(), *b);
    a_read += read_everything(pair.server(), *a);
    return b_read == payload.size();
  }));
  const Nanos b_readable = pair.clock().now() - b_sent;
  EXPECT_EQ(a_read, 0u) << "A's lost bytes were repaired before B arrived: the test proves nothing";
  EXPECT_LE(b_readable, link.delay + 10ms) << "B waited behind A's loss";

  ASSERT_TRUE(run_until(pair, [&] {
    a_read += read_everything(pair.server(), *a);
    return a_read == payload.size();
  }));
  EXPECT_GE(pair.clock().now() - b_sent, 2 * link.delay) << "A's repair needs a round trip";
}

TEST(Session, ChannelBackpressureLosesNothing) {
  // A channel queue of four datagrams refuses most sends; the driver keeps
  // the refused datagram and offers it again, so the transfer completes.
  bulk_transfer_peak(1u << 20, 4);
}

}  // namespace
}  // namespace nyx::stream
