#pragma once
// The stream multiplexer: many reliable, ordered, flow-controlled byte
// streams over one unreliable datagram channel (docs/protocol.md, "Streams").
//
// Session is sans-I/O, as quinn-proto and quiche are: it never reads a clock
// or touches a socket. Its owner feeds it datagrams with the current time
// (handle_datagram), polls it for datagrams to send (poll_transmit), asks it
// when it next needs to run (next_deadline) and runs it then
// (handle_timeout). The application side opens streams, writes (a write
// takes what flow control allows and says how much: that is the
// backpressure), reads, finishes (FIN), resets and stops streams, and
// learns what happened from poll_event(). SessionDriver binds one to a
// core/datagram_channel.hpp channel and a clock.
//
// Loss recovery and congestion control follow RFC 9002 (RTT estimate,
// packet and time threshold loss detection, probe timeout, NewReno, pacing;
// or BBR-N, paced at its own rate, fed delivery-rate samples);
// flow control follows RFC 9000 with window auto-tuning. The parts live in
// their own files: rtt_estimator, congestion_controller (new_reno, bbr),
// delivery_rate, pacer, flow_window, detail/sent_packets,
// detail/received_packets and detail/stream_state (each stream's RFC 9000
// section 3 state machines);
// session.cpp (application side, recovery, timers, sending) and
// session_receive.cpp (frames in) join them. Stream data lives
// in pooled buffers bounded by the flow-control windows, so memory does not
// grow with the size of a transfer.
//
// Ownership and threading: one owner (a shard, a test) calls everything on
// one thread; not thread-safe.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "stream/congestion_controller.hpp"
#include "stream/delivery_rate.hpp"
#include "stream/detail/received_packets.hpp"
#include "stream/detail/sent_packets.hpp"
#include "stream/detail/stream_state.hpp"
#include "stream/flow_window.hpp"
#include "stream/frame.hpp"
#include "stream/pacer.hpp"
#include "stream/rtt_estimator.hpp"

namespace nyx::stream {

using StreamId = std::uint64_t;

// Codes carried by CLOSE frames (and in Error::code when a session closes).
enum class SessionError : std::uint64_t {
  kNoError = 0x0,
  kInternal = 0x1,
  kFlowControl = 0x3,
  kStreamLimit = 0x4,
  kStreamState = 0x5,
  kFinalSize = 0x6,
  kFrameEncoding = 0x7,
  kProtocolViolation = 0xa,
};

// The Error a session closes with when the peer broke a rule.
Error session_error(SessionError code, std::string message);

enum class Role : std::uint8_t { kInitiator = 0, kResponder = 1 };

// Both ends must start from the same initial limits: there is no handshake
// to exchange them (the circuit's setup is that handshake, and it fixes the
// defaults below).
struct SessionConfig {
  std::size_t max_datagram_size = 990;  // the channel's; at least 512
  std::uint64_t initial_max_data = 1u << 20;
  std::uint64_t max_data_window = 16u << 20;  // auto-tuning stops here
  std::uint64_t initial_max_stream_data = 256u << 10;
  std::uint64_t max_stream_data_window = 4u << 20;
  std::uint64_t max_concurrent_streams = 100;  // opened by the peer, open at once
  Nanos idle_timeout = std::chrono::seconds(30);
  // While streams are open, a PING goes out after this much quiet, so a
  // reader that pauses (a stalled window) does not look like a dead peer.
  Nanos keep_alive = std::chrono::seconds(10);
  Nanos max_ack_delay = std::chrono::milliseconds(5);
  // Probe timeouts in a row without any acknowledgement after which the peer
  // is taken for gone and the session closes (kTimeout), long before the
  // idle timeout. RTT-relative: a PTO is smoothed RTT + max(4 rttvar, 1 ms)
  // + max_ack_delay (RFC 9002 6.2.1), doubled at each expiry, and the close
  // comes at the expiry after the n-th probe, so a dead peer is given
  // (2^(n+1) - 1) PTOs after the last ack-eliciting send: 63 for 5, i.e. at
  // least 63 round trips. 0 leaves it to the idle timeout.
  std::uint32_t max_probe_timeouts = 5;
  // The RTT assumed until the first sample: RttEstimator::kInitialRtt, or a
  // round trip measured on the same path before (the client takes the
  // circuit's CREATE to CREATED time). It sets the first probe timeouts, so
  // it decides how soon a stream opened on a circuit that died since it was
  // built is taken for gone: 63 PTOs of 305 ms (about 19 s) with the
  // default, under a second on a fast path.
  Nanos initial_rtt = RttEstimator::kInitialRtt;
  // When the channel refuses a datagram (SendOutcome::kBlocked: its queue is
  // full) and offers no signal when it drains, the owner tries again after
  // this long; an owed ACK or a pacing release does not make the session
  // due sooner (it could not send), so an event loop does not spin.
  Nanos pushback_retry = std::chrono::milliseconds(1);
  std::uint32_t ack_eliciting_threshold = 2;  // ACK at once after this many packets
  // BBR-N: random loss is not congestion (docs/decisions.md).
  CongestionAlgorithm congestion = CongestionAlgorithm::kBbr;
};

enum class EventType : std::uint8_t {
  kIncoming,          // the peer opened `stream`
  kReadable,          // `stream` has data or its FIN to read
  kWritable,          // `stream` got flow-control credit after a short write
  kStreamReset,       // the peer reset `stream` (code): its data is gone
  kStopSending,       // the peer asked us to stop sending on `stream` (code); it is reset
  kStreamClosed,      // both directions of `stream` are done; its id is released
  kStreamsAvailable,  // open_stream() may succeed again
  kClosed,            // the session is over; see close_error()
};

struct Event {
  EventType type = EventType::kClosed;
  StreamId stream = 0;
  std::uint64_t code = 0;
};

struct ReadResult {
  std::size_t bytes = 0;
  bool fin = false;  // every byte of the stream has been read
};

// Counters for tests, benchmarks and metrics export.
struct SessionStats {
  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t packets_lost = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t bytes_retransmitted = 0;
  std::uint64_t pto_count = 0;
};

class Session {
 public:
  Session(Role role, const SessionConfig& config, Nanos now);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // --- I/O side -----------------------------------------------------------
  // A datagram from the peer. Malformed or rule-breaking input closes the
  // session with the matching SessionError; duplicates are ignored.
  void handle_datagram(Bytes datagram, Nanos now);
  // Writes the next datagram into out (up to max_datagram_size bytes) and
  // returns its size, or 0 when nothing may be sent now.
  std::size_t poll_transmit(MutableBytes out, Nanos now);
  // When handle_timeout() must run next (nullopt once closed).
  std::optional<Nanos> next_deadline() const noexcept;
  void handle_timeout(Nanos now);
  // The channel refused the datagram poll_transmit() last gave with kBlocked
  // (the owner keeps it and offers it again): nothing can leave until the next
  // poll_transmit(), so until then next_deadline() reports sending work (an
  // owed ACK, a pacing release) at now + pushback_retry, not as due now.
  void on_transmit_blocked(Nanos now) noexcept;

  // --- application side ---------------------------------------------------
  // kResourceExhausted when the peer's stream limit is reached (wait for
  // kStreamsAvailable), kClosed after the session closed.
  Result<StreamId> open_stream();
  // Takes as many bytes as flow control allows now; 0 means blocked (a
  // kWritable event follows when credit arrives).
  Result<std::size_t> write(StreamId id, Bytes data);
  Status finish(StreamId id);
  Result<ReadResult> read(StreamId id, MutableBytes out);
  // Abandons sending (RESET_STREAM) / asks the peer to stop (STOP_SENDING).
  Status reset(StreamId id, std::uint64_t code);
  Status stop_sending(StreamId id, std::uint64_t code);
  std::optional<Event> poll_event();
  // Closes the session: a CLOSE frame goes out with the next poll_transmit.
  void close(std::uint64_t code, std::string reason);

  bool is_closed() const noexcept { return state_ != State::kOpen; }
  // Why the session closed: kClosed (by us or the peer, code = the CLOSE
  // code), kTimeout (idle) or kProtocol (the peer broke a rule).
  const std::optional<Error>& close_error() const noexcept { return close_error_; }
  const SessionStats& stats() const noexcept { return stats_; }
  std::size_t open_streams() const noexcept { return streams_.size(); }
  Nanos smoothed_rtt() const noexcept { return rtt_.smoothed(); }

 private:
  using StreamState = detail::StreamState;
  using SentPacket = detail::SentPacket;
  enum class State : std::uint8_t { kOpen, kClosing, kClosed };

  StreamState& create_stream(StreamId id);
  StreamState* find(StreamId id) noexcept;
  Result<StreamState*> find_open(StreamId id);
  // The stream a peer's frame is about: nullptr for one already finished,
  // opening peer streams implicitly, an error for ids the peer may not use.
  Result<StreamState*> stream_for_frame(StreamId id);
  bool is_local(StreamId id) const noexcept;

  // Receiving (session_receive.cpp).
  Status on_frame(const Frame& f, Nanos now, bool& eliciting);
  Status on_stream_frame(const Frame& f);
  Status on_reset_frame(const Frame& f);
  Status on_stop_sending_frame(const Frame& f);
  Status on_max_stream_data_frame(const Frame& f);
  void on_max_data_frame(std::uint64_t max);
  void on_max_streams_frame(std::uint64_t max);
  Status on_conn_received(std::uint64_t grew);

  // Loss recovery.
  Status on_ack(const AckFrame& ack, Nanos now);
  void on_packet_acked(SentPacket& p, Nanos now);
  void on_packet_lost(SentPacket& p, Nanos now);
  // The in-flight counters' half of an ack or a loss.
  void leave_flight(SentPacket& p);
  void on_record_lost(const detail::SentRecord& r);
  void detect_lost(Nanos now);
  // Hands the controller what one ACK frame or loss-timer run did.
  void end_congestion_event(Nanos now, std::uint64_t prior_in_flight);
  Nanos pto_deadline() const noexcept;
  Nanos keep_alive_deadline() const noexcept;

  // Sending.
  bool may_send_eliciting(Nanos now);
  bool has_data_to_send() const noexcept;
  void on_eliciting_sent(SentPacket& p, Nanos now);
  void fill_control(ByteWriter& w, SentPacket& p);
  void fill_stream_control(ByteWriter& w, SentPacket& p, StreamState& s);
  void fill_stream_data(ByteWriter& w, SentPacket& p);

  void mark_readable(StreamState& s);
  void queue_send(StreamState& s);
  void queue_control(StreamState& s);
  void after_read(StreamState& s, std::size_t n);
  void consume_conn(std::uint64_t n);
  void do_reset(StreamState& s, std::uint64_t code);
  // Drops what arrived unread on a stopped stream, returning its credit.
  void discard_unread(StreamState& s);
  // Forgets a stream once both directions are done (s is gone afterwards).
  void maybe_finalize(StreamState& s);
  void close_with(const Error& error);
  void finish_close(State state, Error error);
  void push(EventType type, StreamId id, std::uint64_t code = 0);

  SessionConfig config_;
  Role role_;
  State state_ = State::kOpen;
  std::optional<Error> close_error_;
  bool close_pending_ = false;
  std::uint64_t close_code_ = 0;
  std::string close_reason_;
  Nanos now_;
  SessionStats stats_;

  std::unordered_map<StreamId, std::unique_ptr<StreamState>> streams_;
  std::deque<StreamId> send_queue_;
  std::deque<StreamId> control_queue_;
  std::vector<StreamId> conn_blocked_;
  std::deque<Event> events_;
  std::uint64_t next_local_index_ = 0;
  std::uint64_t next_peer_index_ = 0;
  std::uint64_t peer_max_streams_;
  std::uint64_t local_max_streams_;
  bool max_streams_pending_ = false;
  bool ping_pending_ = false;
  bool open_blocked_ = false;

  // Connection flow control.
  SendCredit conn_credit_;           // the peer's MAX_DATA; used() is what write() took
  ReceiveWindow conn_window_;        // our MAX_DATA
  std::uint64_t conn_received_ = 0;  // sum of the highest offsets received per stream
  std::uint64_t conn_consumed_ = 0;  // bytes read (or discarded) by the application
  bool max_data_pending_ = false;

  detail::ReceivedPackets received_;
  Nanos last_received_;
  detail::SentPackets sent_;

  // Recovery (RFC 9002).
  RttEstimator rtt_;
  std::uint64_t largest_acked_ = 0;
  bool any_acked_ = false;
  Nanos loss_time_{0};
  Nanos last_eliciting_sent_{0};
  std::uint32_t pto_count_ = 0;
  std::uint32_t probes_pending_ = 0;
  std::uint64_t eliciting_in_flight_ = 0;
  std::uint64_t bytes_in_flight_ = 0;

  std::unique_ptr<CongestionController> congestion_;
  DeliveryRateSampler delivery_;
  // What the current ACK frame or loss-timer run acknowledged and lost.
  std::uint64_t event_acked_ = 0;
  std::uint64_t event_lost_ = 0;
  std::uint32_t event_lost_packets_ = 0;
  Pacer pacer_;
  std::optional<Nanos> pacing_wait_;  // when the pacer next allows a datagram, if it blocked
  // While the channel pushes back: when the owner should offer the refused
  // datagram again.
  std::optional<Nanos> blocked_retry_;
};

}  // namespace nyx::stream
