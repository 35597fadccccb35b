#include "stream/session.hpp"

#include <algorithm>
#include <cmath>

namespace nyx::stream {
namespace {

using namespace std::chrono_literals;

constexpr Nanos kGranularity = 1ms;
// RFC 9002 suggests 333 ms before the first sample; circuits are slower than
// a LAN but far below that, and a lower value makes the first PTO sooner.
constexpr Nanos kInitialRtt = 100ms;
constexpr std::uint64_t kPacketThreshold = 3;
constexpr std::uint64_t kInitialWindowPackets = 10;
constexpr std::uint64_t kMinWindowPackets = 2;
constexpr std::size_t kMaxAckRanges = 32;
constexpr std::size_t kMaxTrackedPnRanges = 64;
constexpr std::size_t kMaxRecords = 8;
constexpr std::size_t kMinStreamFrameRoom = 16;

Error session_error(SessionError code, std::string message) {
  return Error{ErrorCategory::kProtocol, static_cast<int>(code), std::move(message)};
}

}  // namespace

// What an in-flight packet carried, so that its acknowledgement or loss can
// be applied to the right state.
struct Session::SentRecord {
  enum Kind : std::uint8_t { kStreamData, kMaxData, kMaxStreamData, kMaxStreams, kReset, kStop };
  Kind kind = kStreamData;
  bool fin = false;
  std::uint32_t length = 0;
  StreamId stream = 0;
  std::uint64_t offset = 0;
};

struct Session::SentPacket {
  enum State : std::uint8_t { kEmpty, kInFlight, kDone };
  State state = kEmpty;
  std::uint8_t count = 0;
  std::uint32_t size = 0;
  Nanos time_sent{0};
  std::array<SentRecord, kMaxRecords> records{};
};

struct Session::Stream {
  StreamId id = 0;
  // Sending: bytes [acked_prefix, written) sit in send_buf.
  detail::ChunkQueue send_buf;
  detail::RangeSet acked;       // acknowledged ranges above acked_prefix
  detail::RangeSet retransmit;  // lost ranges waiting to go out again
  std::uint64_t written = 0;    // taken by write()
  std::uint64_t send_next = 0;  // first offset never sent
  std::uint64_t acked_prefix = 0;
  std::uint64_t peer_max = 0;  // the peer's MAX_STREAM_DATA
  std::uint64_t reset_code = 0;
  bool fin_requested = false;
  bool fin_sent = false;
  bool fin_resend = false;
  bool fin_acked = false;
  bool reset_local = false;
  bool reset_pending = false;
  bool send_done = false;
  bool want_writable = false;
  bool in_send_queue = false;
  bool in_control_queue = false;
  // Receiving: bytes [read_offset, ...) sit in recv_buf where received says.
  detail::ChunkQueue recv_buf;
  detail::RangeSet received;
  std::uint64_t read_offset = 0;
  std::uint64_t highest = 0;    // highest offset seen, for flow control
  std::uint64_t local_max = 0;  // our MAX_STREAM_DATA
  std::uint64_t window = 0;
  Nanos window_updated{0};
  std::optional<std::uint64_t> final_size;
  std::uint64_t stop_code = 0;
  bool stop_local = false;
  bool stop_pending = false;
  bool max_data_pending = false;
  bool readable_signalled = false;
  bool recv_done = false;

  bool has_data_to_send() const noexcept {
    return !reset_local && (!retransmit.empty() || send_next < written ||
                            (fin_requested && (!fin_sent || fin_resend) && !fin_acked));
  }
};

Session::Session(Role role, const SessionConfig& config, Nanos now)
    : config_(config),
      role_(role),
      now_(now),
      peer_max_streams_(config.max_concurrent_streams),
      local_max_streams_(config.max_concurrent_streams),
      peer_max_data_(config.initial_max_data),
      local_max_data_(config.initial_max_data),
      conn_window_(config.initial_max_data),
      conn_window_updated_(now),
      last_received_(now),
      sent_(256),
      srtt_(kInitialRtt),
      rttvar_(kInitialRtt / 2),
      cwnd_(kInitialWindowPackets * config.max_datagram_size),
      ssthresh_(UINT64_MAX),
      pacer_tokens_(static_cast<double>(cwnd_)),
      pacer_updated_(now) {
  config_.max_datagram_size = std::max<std::size_t>(config_.max_datagram_size, 512);
}

Session::~Session() = default;

bool Session::is_local(StreamId id) const noexcept {
  return (id & 1) == static_cast<std::uint64_t>(role_);
}

Session::Stream* Session::find(StreamId id) noexcept {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

Result<Session::Stream*> Session::find_open(StreamId id) {
  if (state_ != State::kOpen) {
    return make_error(ErrorCategory::kClosed, "session closed");
  }
  Stream* s = find(id);
  if (s == nullptr) {
    return make_error(ErrorCategory::kNotFound, "no such stream");
  }
  return s;
}

Session::Stream& Session::create_stream(StreamId id) {
  auto s = std::make_unique<Stream>();
  s->id = id;
  s->peer_max = config_.initial_max_stream_data;
  s->local_max = s->window = config_.initial_max_stream_data;
  s->window_updated = now_;
  Stream& ref = *s;
  streams_.emplace(id, std::move(s));
  return ref;
}

void Session::push(EventType type, StreamId id, std::uint64_t code) {
  events_.push_back(Event{type, id, code});
}

std::optional<Event> Session::poll_event() {
  if (events_.empty()) {
    return std::nullopt;
  }
  Event e = events_.front();
  events_.pop_front();
  return e;
}

// --- application side -------------------------------------------------------

Result<StreamId> Session::open_stream() {
  if (state_ != State::kOpen) {
    return make_error(ErrorCategory::kClosed, "session closed");
  }
  if (next_local_index_ >= peer_max_streams_) {
    open_blocked_ = true;
    return make_error(ErrorCategory::kResourceExhausted, "stream limit reached",
                      static_cast<int>(SessionError::kStreamLimit));
  }
  const StreamId id = next_local_index_++ * 4 + static_cast<std::uint64_t>(role_);
  create_stream(id);
  return id;
}

Result<std::size_t> Session::write(StreamId id, Bytes data) {
  auto s = find_open(id);
  if (!s) {
    return std::unexpected(s.error());
  }
  Stream& st = **s;
  if (st.reset_local || st.fin_requested) {
    return make_error(ErrorCategory::kClosed, "stream finished or reset",
                      static_cast<int>(SessionError::kStreamState));
  }
  const std::uint64_t stream_credit = st.peer_max - st.written;
  const std::uint64_t conn_credit = peer_max_data_ - conn_written_;
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>({stream_credit, conn_credit, data.size()}));
  if (n < data.size()) {
    if (!st.want_writable && conn_credit < stream_credit) {
      conn_blocked_.push_back(id);
    }
    st.want_writable = true;
  }
  if (n > 0) {
    st.send_buf.write(st.written, data.first(n));
    st.written += n;
    conn_written_ += n;
    queue_send(st);
  }
  return n;
}

Status Session::finish(StreamId id) {
  auto s = find_open(id);
  if (!s) {
    return std::unexpected(s.error());
  }
  if ((*s)->reset_local) {
    return make_error(ErrorCategory::kClosed, "stream reset",
                      static_cast<int>(SessionError::kStreamState));
  }
  (*s)->fin_requested = true;
  queue_send(**s);
  return {};
}

Result<ReadResult> Session::read(StreamId id, MutableBytes out) {
  auto found = find_open(id);
  if (!found) {
    return std::unexpected(found.error());
  }
  Stream& s = **found;
  if (s.stop_local) {
    return make_error(ErrorCategory::kClosed, "stream stopped",
                      static_cast<int>(SessionError::kStreamState));
  }
  std::uint64_t avail = 0;
  if (!s.received.empty() && s.received.front().start <= s.read_offset) {
    avail = s.received.front().end - s.read_offset;
  }
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(avail, out.size()));
  if (n > 0) {
    s.recv_buf.read(s.read_offset, out.data(), n);
    s.read_offset += n;
    s.received.remove_below(s.read_offset);
    s.recv_buf.release_below(s.read_offset);
  }
  if (n == avail) {
    s.readable_signalled = false;
  }
  ReadResult r{n, s.final_size.has_value() && s.read_offset == *s.final_size};
  after_read(s, n);
  if (r.fin && !s.recv_done) {
    s.recv_done = true;
    maybe_finalize(s);
  }
  return r;
}

void Session::after_read(Stream& s, std::size_t n) {
  if (n == 0) {
    return;
  }
  consume_conn(n);
  if (s.final_size || s.local_max - s.read_offset >= s.window / 2) {
    return;
  }
  // Auto-tuning: a window used up within two round trips is too small.
  if (now_ - s.window_updated < 2 * srtt_) {
    s.window = std::min(s.window * 2, config_.max_stream_data_window);
  }
  s.window_updated = now_;
  s.local_max = s.read_offset + s.window;
  s.max_data_pending = true;
  queue_control(s);
}

void Session::consume_conn(std::uint64_t n) {
  conn_consumed_ += n;
  if (local_max_data_ - conn_consumed_ >= conn_window_ / 2) {
    return;
  }
  if (now_ - conn_window_updated_ < 2 * srtt_) {
    conn_window_ = std::min(conn_window_ * 2, config_.max_data_window);
  }
  conn_window_updated_ = now_;
  local_max_data_ = conn_consumed_ + conn_window_;
  max_data_pending_ = true;
}

Status Session::reset(StreamId id, std::uint64_t code) {
  auto s = find_open(id);
  if (!s) {
    return std::unexpected(s.error());
  }
  if (!(*s)->send_done && !(*s)->reset_local) {
    do_reset(**s, code);
  }
  return {};
}

void Session::do_reset(Stream& s, std::uint64_t code) {
  s.reset_local = true;
  s.reset_code = code;
  // Bytes taken but never sent are not part of the final size: give their
  // connection credit back.
  conn_written_ -= s.written - s.send_next;
  s.written = s.send_next;
  s.send_buf.clear(s.send_next);
  s.retransmit.clear();
  s.acked.clear();
  s.reset_pending = true;
  queue_control(s);
}

Status Session::stop_sending(StreamId id, std::uint64_t code) {
  auto found = find_open(id);
  if (!found) {
    return std::unexpected(found.error());
  }
  Stream& s = **found;
  if (s.recv_done || s.stop_local) {
    return {};
  }
  s.stop_local = true;
  s.stop_code = code;
  s.stop_pending = true;
  queue_control(s);
  // Whatever arrived unread is discarded and its credit returned.
  consume_conn(s.highest - s.read_offset);
  s.read_offset = s.highest;
  s.recv_buf.clear(s.highest);
  s.received.clear();
  if (s.final_size && s.highest == *s.final_size) {
    s.recv_done = true;
    maybe_finalize(s);
  }
  return {};
}

void Session::close(std::uint64_t code, std::string reason) {
  if (state_ != State::kOpen) {
    return;
  }
  close_code_ = code;
  close_reason_ = std::move(reason);
  close_pending_ = true;
  finish_close(State::kClosing,
               Error{ErrorCategory::kClosed, static_cast<int>(code), "closed locally"});
}

void Session::close_with(const Error& error) {
  if (state_ != State::kOpen) {
    return;
  }
  close_code_ = static_cast<std::uint64_t>(error.code);
  close_reason_ = error.message;
  close_pending_ = true;
  finish_close(State::kClosing, error);
}

void Session::finish_close(State state, Error error) {
  state_ = state;
  close_error_ = std::move(error);
  streams_.clear();
  send_queue_.clear();
  control_queue_.clear();
  conn_blocked_.clear();
  push(EventType::kClosed, 0, static_cast<std::uint64_t>(close_error_->code));
}

void Session::queue_send(Stream& s) {
  if (!s.in_send_queue) {
    s.in_send_queue = true;
    send_queue_.push_back(s.id);
  }
}

void Session::queue_control(Stream& s) {
  if (!s.in_control_queue) {
    s.in_control_queue = true;
    control_queue_.push_back(s.id);
  }
}

void Session::mark_readable(Stream& s) {
  if (!s.readable_signalled) {
    s.readable_signalled = true;
    push(EventType::kReadable, s.id);
  }
}

void Session::maybe_finalize(Stream& s) {
  if (!s.send_done || !s.recv_done) {
    return;
  }
  const StreamId id = s.id;
  if (!is_local(id)) {
    ++local_max_streams_;
    max_streams_pending_ = true;
  }
  streams_.erase(id);
  push(EventType::kStreamClosed, id);
}

// --- receiving ----------------------------------------------------------------

void Session::handle_datagram(Bytes datagram, Nanos now) {
  now_ = now;
  if (state_ != State::kOpen) {
    return;
  }
  auto header = decode_packet_header(datagram);
  if (!header) {
    close_with(session_error(SessionError::kFrameEncoding, header.error().message));
    return;
  }
  const std::uint64_t pn = header->packet_number;
  if (pn < pn_floor_ || received_pns_.contains(pn)) {
    ++stats_.duplicates;
    return;
  }
  FrameDecoder decoder(header->frames);
  Frame frame;
  bool eliciting = false;
  for (;;) {
    auto more = decoder.next(frame);
    if (!more) {
      close_with(session_error(SessionError::kFrameEncoding, more.error().message));
      return;
    }
    if (!*more) {
      break;
    }
    if (auto st = on_frame(frame, now, eliciting); !st) {
      close_with(st.error());
      return;
    }
    if (state_ != State::kOpen) {
      return;
    }
  }
  ++stats_.packets_received;
  last_received_ = now;
  const bool had_any = !received_pns_.empty() || pn_floor_ > 0;
  received_pns_.add(pn, pn + 1);
  while (received_pns_.size() > kMaxTrackedPnRanges) {
    pn_floor_ = received_pns_.front().end;
    received_pns_.remove_below(pn_floor_);
  }
  if (!had_any || pn > largest_received_) {
    // A gap means loss or reordering: tell the sender at once (RFC 9000 13.2.1).
    if (had_any && pn != largest_received_ + 1) {
      ack_now_ = true;
    }
    largest_received_ = pn;
    largest_received_time_ = now;
  } else {
    ack_now_ = true;
  }
  if (eliciting) {
    if (!ack_pending_) {
      ack_deadline_ = now + config_.max_ack_delay;
    }
    ack_pending_ = true;
    if (++eliciting_since_ack_ >= config_.ack_eliciting_threshold) {
      ack_now_ = true;
    }
  }
}

Status Session::on_frame(const Frame& f, Nanos now, bool& eliciting) {
  switch (f.type) {
    case FrameType::kPadding:
      return {};
    case FrameType::kAck:
      return on_ack(f.ack, now);
    case FrameType::kClose:
      finish_close(
          State::kClosed,
          Error{ErrorCategory::kClosed, static_cast<int>(f.value),
                "closed by peer: " +
                    std::string(reinterpret_cast<const char*>(f.data.data()), f.data.size())});
      return {};
    default:
      break;
  }
  eliciting = true;
  switch (f.type) {
    case FrameType::kPing:
      return {};
    case FrameType::kStream:
      return on_stream_frame(f);
    case FrameType::kResetStream:
      return on_reset_frame(f);
    case FrameType::kStopSending: {
      auto s = stream_for_frame(f.stream_id);
      if (!s) {
        return std::unexpected(s.error());
      }
      if (*s != nullptr && !(*s)->send_done && !(*s)->reset_local) {
        do_reset(**s, f.value);
        push(EventType::kStopSending, f.stream_id, f.value);
      }
      return {};
    }
    case FrameType::kMaxData:
      if (f.value > peer_max_data_) {
        peer_max_data_ = f.value;
        for (StreamId id : conn_blocked_) {
          if (Stream* s = find(id); s != nullptr && s->want_writable) {
            s->want_writable = false;
            push(EventType::kWritable, id);
          }
        }
        conn_blocked_.clear();
      }
      return {};
    case FrameType::kMaxStreamData: {
      auto s = stream_for_frame(f.stream_id);
      if (!s) {
        return std::unexpected(s.error());
      }
      if (*s != nullptr && f.value > (*s)->peer_max) {
        (*s)->peer_max = f.value;
        if ((*s)->want_writable) {
          (*s)->want_writable = false;
          push(EventType::kWritable, f.stream_id);
        }
      }
      return {};
    }
    case FrameType::kMaxStreams:
      if (f.value > peer_max_streams_) {
        peer_max_streams_ = f.value;
        if (open_blocked_) {
          open_blocked_ = false;
          push(EventType::kStreamsAvailable, 0);
        }
      }
      return {};
    default:
      return std::unexpected(session_error(SessionError::kInternal, "unhandled frame type"));
  }
}

Result<Session::Stream*> Session::stream_for_frame(StreamId id) {
  const std::uint64_t index = id >> 2;
  if ((id & 2) != 0) {
    return std::unexpected(
        session_error(SessionError::kStreamState, "unidirectional streams are not used"));
  }
  if (is_local(id)) {
    if (index >= next_local_index_) {
      return std::unexpected(
          session_error(SessionError::kStreamState, "frame for a stream never opened"));
    }
    return find(id);
  }
  if (index >= local_max_streams_) {
    return std::unexpected(session_error(SessionError::kStreamLimit, "stream limit exceeded"));
  }
  // A peer's stream opens every lower-numbered one of its kind (RFC 9000 3.2).
  while (next_peer_index_ <= index) {
    const StreamId opened = next_peer_index_++ * 4 + (static_cast<std::uint64_t>(role_) ^ 1);
    create_stream(opened);
    push(EventType::kIncoming, opened);
  }
  return find(id);
}

Status Session::on_stream_frame(const Frame& f) {
  auto found = stream_for_frame(f.stream_id);
  if (!found) {
    return std::unexpected(found.error());
  }
  Stream* s = *found;
  if (s == nullptr || s->recv_done) {
    return {};  // a late copy for a finished stream
  }
  const std::uint64_t end = f.offset + f.data.size();
  if (s->final_size) {
    if (end > *s->final_size || (f.fin && end != *s->final_size)) {
      return std::unexpected(session_error(SessionError::kFinalSize, "data beyond final size"));
    }
  } else if (f.fin) {
    if (end < s->highest) {
      return std::unexpected(session_error(SessionError::kFinalSize, "FIN below received data"));
    }
    s->final_size = end;
  }
  if (end > s->local_max) {
    return std::unexpected(session_error(SessionError::kFlowControl, "stream window exceeded"));
  }
  if (end > s->highest) {
    conn_received_ += end - s->highest;
    s->highest = end;
    if (conn_received_ > local_max_data_) {
      return std::unexpected(
          session_error(SessionError::kFlowControl, "connection window exceeded"));
    }
  }
  if (s->stop_local) {
    consume_conn(s->highest - s->read_offset);
    s->read_offset = s->highest;
    if (s->final_size && s->highest == *s->final_size) {
      s->recv_done = true;
      maybe_finalize(*s);
    }
    return {};
  }
  if (end > s->read_offset) {
    const std::uint64_t start = std::max(f.offset, s->read_offset);
    // Copy only what has not arrived before (retransmissions overlap).
    s->received.for_each_gap(start, end, [&](std::uint64_t a, std::uint64_t b) {
      s->recv_buf.write(a, f.data.subspan(static_cast<std::size_t>(a - f.offset),
                                          static_cast<std::size_t>(b - a)));
    });
    s->received.add(start, end);
  }
  const bool data_ready = !s->received.empty() && s->received.front().start <= s->read_offset;
  if (data_ready || (s->final_size && s->read_offset == *s->final_size)) {
    mark_readable(*s);
  }
  return {};
}

Status Session::on_reset_frame(const Frame& f) {
  auto found = stream_for_frame(f.stream_id);
  if (!found) {
    return std::unexpected(found.error());
  }
  Stream* s = *found;
  if (s == nullptr || s->recv_done) {
    return {};
  }
  if ((s->final_size && *s->final_size != f.final_size) || f.final_size < s->highest) {
    return std::unexpected(session_error(SessionError::kFinalSize, "reset changes final size"));
  }
  if (f.final_size > s->local_max) {
    return std::unexpected(session_error(SessionError::kFlowControl, "stream window exceeded"));
  }
  conn_received_ += f.final_size - s->highest;
  s->highest = f.final_size;
  if (conn_received_ > local_max_data_) {
    return std::unexpected(session_error(SessionError::kFlowControl, "connection window exceeded"));
  }
  consume_conn(f.final_size - s->read_offset);
  s->read_offset = f.final_size;
  s->final_size = f.final_size;
  s->recv_buf.clear(f.final_size);
  s->received.clear();
  s->recv_done = true;
  push(EventType::kStreamReset, f.stream_id, f.value);
  maybe_finalize(*s);
  return {};
}

// --- acknowledgements and loss (RFC 9002) -----------------------------------

Session::SentPacket& Session::slot(std::uint64_t pn) noexcept {
  return sent_[static_cast<std::size_t>(pn & (sent_.size() - 1))];
}

Status Session::on_ack(const AckFrame& ack, Nanos now) {
  if (ack.largest >= next_pn_) {
    return std::unexpected(
        session_error(SessionError::kProtocolViolation, "ACK for a packet never sent"));
  }
  bool newly_eliciting = false;
  bool largest_newly_acked = false;
  Nanos largest_sent{0};
  ack.for_each_range([&](PacketRange r) {
    const std::uint64_t lo = std::max(r.smallest, first_pn_);
    const std::uint64_t hi = r.largest + 1;
    if (lo >= hi) {
      return;
    }
    acked_pns_.for_each_gap(lo, hi, [&](std::uint64_t a, std::uint64_t b) {
      for (std::uint64_t pn = a; pn < b; ++pn) {
        SentPacket& p = slot(pn);
        if (p.state != SentPacket::kInFlight) {
          continue;
        }
        if (pn == ack.largest) {
          largest_newly_acked = true;
          largest_sent = p.time_sent;
        }
        newly_eliciting = true;
        on_packet_acked(p);
      }
    });
    acked_pns_.add(lo, hi);
  });
  if (!any_acked_ || ack.largest > largest_acked_) {
    largest_acked_ = ack.largest;
    any_acked_ = true;
  }
  if (largest_newly_acked) {
    const Nanos ack_delay =
        std::min<Nanos>(std::chrono::microseconds(std::min<std::uint64_t>(ack.delay_us, 1u << 30)),
                        config_.max_ack_delay);
    update_rtt(now - largest_sent, ack_delay);
  }
  if (newly_eliciting) {
    pto_count_ = 0;
  }
  detect_lost(now);
  pop_done_packets();
  return {};
}

void Session::update_rtt(Nanos latest, Nanos ack_delay) {
  latest_rtt_ = latest;
  if (!have_rtt_) {
    have_rtt_ = true;
    min_rtt_ = srtt_ = latest;
    rttvar_ = latest / 2;
    return;
  }
  min_rtt_ = std::min(min_rtt_, latest);
  Nanos adjusted = latest;
  if (latest >= min_rtt_ + ack_delay) {
    adjusted = latest - ack_delay;
  }
  const Nanos diff = srtt_ > adjusted ? srtt_ - adjusted : adjusted - srtt_;
  rttvar_ = (3 * rttvar_ + diff) / 4;
  srtt_ = (7 * srtt_ + adjusted) / 8;
}

void Session::on_packet_acked(SentPacket& p) {
  // NewReno growth, only while the window is what limits us (RFC 9002 7.8).
  const bool cwnd_limited = 2 * bytes_in_flight_ >= cwnd_;
  bytes_in_flight_ -= p.size;
  --eliciting_in_flight_;
  if (cwnd_limited && p.time_sent > recovery_start_) {
    if (cwnd_ < ssthresh_) {
      cwnd_ += p.size;
    } else {
      cwnd_ += config_.max_datagram_size * p.size / cwnd_;
    }
  }
  p.state = SentPacket::kDone;
  for (std::size_t i = 0; i < p.count; ++i) {
    const SentRecord& r = p.records[i];
    Stream* s = find(r.stream);
    if (s == nullptr) {
      continue;
    }
    if (r.kind == SentRecord::kStreamData && !s->reset_local) {
      s->acked.add(r.offset, r.offset + r.length);
      s->retransmit.remove(r.offset, r.offset + r.length);
      while (!s->acked.empty() && s->acked.front().start <= s->acked_prefix) {
        s->acked_prefix = std::max(s->acked_prefix, s->acked.front().end);
        s->acked.remove_below(s->acked_prefix);
      }
      s->send_buf.release_below(s->acked_prefix);
      if (r.fin) {
        s->fin_acked = true;
      }
      if (s->fin_acked && s->acked_prefix == s->written && !s->send_done) {
        s->send_done = true;
        maybe_finalize(*s);
      }
    } else if (r.kind == SentRecord::kReset && !s->send_done) {
      s->reset_pending = false;
      s->send_done = true;
      maybe_finalize(*s);
    }
  }
}

void Session::on_packet_lost(SentPacket& p, Nanos now) {
  ++stats_.packets_lost;
  bytes_in_flight_ -= p.size;
  --eliciting_in_flight_;
  if (p.time_sent > recovery_start_) {
    recovery_start_ = now;
    ssthresh_ = std::max<std::uint64_t>(cwnd_ / 2, kMinWindowPackets * config_.max_datagram_size);
    cwnd_ = ssthresh_;
  }
  p.state = SentPacket::kDone;
  for (std::size_t i = 0; i < p.count; ++i) {
    const SentRecord& r = p.records[i];
    if (r.kind == SentRecord::kMaxData) {
      max_data_pending_ = true;
      continue;
    }
    if (r.kind == SentRecord::kMaxStreams) {
      max_streams_pending_ = true;
      continue;
    }
    Stream* s = find(r.stream);
    if (s == nullptr) {
      continue;
    }
    switch (r.kind) {
      case SentRecord::kStreamData:
        if (!s->reset_local) {
          const std::uint64_t lo = std::max(r.offset, s->acked_prefix);
          const std::uint64_t hi = r.offset + r.length;
          if (lo < hi) {
            s->acked.for_each_gap(
                lo, hi, [s](std::uint64_t a, std::uint64_t b) { s->retransmit.add(a, b); });
          }
          if (r.fin && !s->fin_acked) {
            s->fin_resend = true;
          }
          queue_send(*s);
        }
        break;
      case SentRecord::kMaxStreamData:
        if (!s->final_size && !s->recv_done) {
          s->max_data_pending = true;
          queue_control(*s);
        }
        break;
      case SentRecord::kReset:
        if (!s->send_done) {
          s->reset_pending = true;
          queue_control(*s);
        }
        break;
      case SentRecord::kStop:
        if (!s->recv_done) {
          s->stop_pending = true;
          queue_control(*s);
        }
        break;
      default:
        break;
    }
  }
}

void Session::detect_lost(Nanos now) {
  loss_time_ = Nanos{0};
  if (!any_acked_) {
    return;
  }
  const Nanos loss_delay = std::max(9 * std::max(latest_rtt_, srtt_) / 8, kGranularity);
  const Nanos lost_send_time = now - loss_delay;
  if (first_pn_ >= largest_acked_) {
    return;
  }
  acked_pns_.for_each_gap(first_pn_, largest_acked_, [&](std::uint64_t a, std::uint64_t b) {
    for (std::uint64_t pn = a; pn < b; ++pn) {
      SentPacket& p = slot(pn);
      if (p.state != SentPacket::kInFlight) {
        continue;
      }
      if (p.time_sent <= lost_send_time || largest_acked_ >= pn + kPacketThreshold) {
        on_packet_lost(p, now);
      } else {
        const Nanos t = p.time_sent + loss_delay;
        if (loss_time_ == Nanos{0} || t < loss_time_) {
          loss_time_ = t;
        }
      }
    }
  });
}

void Session::pop_done_packets() {
  while (first_pn_ < next_pn_ && slot(first_pn_).state != SentPacket::kInFlight) {
    slot(first_pn_).state = SentPacket::kEmpty;
    ++first_pn_;
  }
  acked_pns_.remove_below(first_pn_);
}

Nanos Session::pto_deadline() const noexcept {
  const Nanos interval = srtt_ + std::max(4 * rttvar_, kGranularity) + config_.max_ack_delay;
  return last_eliciting_sent_ +
         interval * (std::int64_t{1} << std::min<std::uint32_t>(pto_count_, 16));
}

Nanos Session::keep_alive_deadline() const noexcept {
  return std::max(last_eliciting_sent_, last_received_) + config_.keep_alive;
}

std::optional<Nanos> Session::next_deadline() const noexcept {
  if (state_ != State::kOpen) {
    return std::nullopt;
  }
  Nanos d = last_received_ + config_.idle_timeout;
  if (ack_pending_) {
    d = std::min(d, ack_now_ ? now_ : ack_deadline_);
  }
  if (loss_time_ != Nanos{0}) {
    d = std::min(d, loss_time_);
  } else if (eliciting_in_flight_ > 0) {
    d = std::min(d, pto_deadline());
  }
  if (!streams_.empty() && !ping_pending_) {
    d = std::min(d, keep_alive_deadline());
  }
  if (pacing_wait_ != Nanos{0} && has_data_to_send()) {
    d = std::min(d, pacing_wait_);
  }
  return d;
}

void Session::handle_timeout(Nanos now) {
  now_ = now;
  if (state_ != State::kOpen) {
    return;
  }
  if (now >= last_received_ + config_.idle_timeout) {
    finish_close(State::kClosed, Error{ErrorCategory::kTimeout, 0, "idle timeout"});
    return;
  }
  if (loss_time_ != Nanos{0}) {
    if (now >= loss_time_) {
      detect_lost(now);
      pop_done_packets();
    }
  } else if (eliciting_in_flight_ > 0 && now >= pto_deadline()) {
    if (config_.max_probe_timeouts != 0 && pto_count_ >= config_.max_probe_timeouts) {
      finish_close(State::kClosed, Error{ErrorCategory::kTimeout, 0, "peer unresponsive"});
      return;
    }
    ++pto_count_;
    ++stats_.pto_count;
    probes_pending_ = 2;
  }
  if (ack_pending_ && now >= ack_deadline_) {
    ack_now_ = true;
  }
  if (!streams_.empty() && now >= keep_alive_deadline()) {
    ping_pending_ = true;
  }
}

// --- sending ------------------------------------------------------------------

bool Session::has_data_to_send() const noexcept {
  return !send_queue_.empty() || !control_queue_.empty() || max_data_pending_ ||
         max_streams_pending_ || ping_pending_;
}

bool Session::may_send_eliciting(Nanos now) noexcept {
  pacing_wait_ = Nanos{0};
  if (probes_pending_ > 0) {
    return true;
  }
  const std::size_t mds = config_.max_datagram_size;
  if (bytes_in_flight_ + mds > cwnd_) {
    return false;
  }
  // Pacing (RFC 9002 7.7): a bucket of ten datagrams refilled at 1.25 cwnd
  // per smoothed RTT.
  const auto rtt_ns = static_cast<double>(srtt_.count());
  if (rtt_ns < 1000.0) {
    return true;
  }
  const double rate = 1.25 * static_cast<double>(cwnd_) / rtt_ns;
  const double cap = static_cast<double>(kInitialWindowPackets * mds);
  pacer_tokens_ =
      std::min(cap, pacer_tokens_ + rate * static_cast<double>((now - pacer_updated_).count()));
  pacer_updated_ = now;
  if (pacer_tokens_ >= static_cast<double>(mds)) {
    return true;
  }
  pacing_wait_ = now + Nanos{static_cast<std::int64_t>(
                           std::ceil((static_cast<double>(mds) - pacer_tokens_) / rate))};
  return false;
}

Session::SentPacket& Session::new_sent_packet(std::uint64_t pn) {
  if (pn - first_pn_ >= sent_.size()) {
    std::vector<SentPacket> bigger(sent_.size() * 2);
    const std::size_t mask = bigger.size() - 1;
    for (std::uint64_t i = first_pn_; i < pn; ++i) {
      bigger[static_cast<std::size_t>(i & mask)] = slot(i);
    }
    sent_.swap(bigger);
  }
  SentPacket& p = slot(pn);
  p.state = SentPacket::kEmpty;
  p.count = 0;
  return p;
}

std::size_t Session::poll_transmit(MutableBytes out, Nanos now) {
  now_ = now;
  if (state_ == State::kClosed) {
    return 0;
  }
  ByteWriter w(out.first(std::min(out.size(), config_.max_datagram_size)));
  const std::uint64_t pn = next_pn_;
  if (!encode_packet_header(w, pn)) {
    return 0;
  }
  if (state_ == State::kClosing) {
    // One CLOSE, its reason cut to what fits, then silence.
    const std::size_t room = w.remaining() > 24 ? w.remaining() - 24 : 0;
    encode_close(w, close_code_, std::string_view(close_reason_).substr(0, room));
    state_ = State::kClosed;
    ++next_pn_;
    ++stats_.packets_sent;
    return w.size();
  }
  const bool want_ack = ack_pending_ && (ack_now_ || now >= ack_deadline_);
  const bool can_elicit = (has_data_to_send() || probes_pending_ > 0) && may_send_eliciting(now);
  if (!want_ack && !can_elicit) {
    return 0;
  }
  SentPacket& p = new_sent_packet(pn);
  if (ack_pending_) {
    std::array<PacketRange, kMaxAckRanges> ranges;
    std::size_t n = 0;
    const auto& rs = received_pns_.ranges();
    for (auto it = rs.rbegin(); it != rs.rend() && n < kMaxAckRanges; ++it) {
      ranges[n++] = PacketRange{it->start, it->end - 1};
    }
    const auto delay =
        std::chrono::duration_cast<std::chrono::microseconds>(now - largest_received_time_);
    if (encode_ack(w, static_cast<std::uint64_t>(std::max<std::int64_t>(delay.count(), 0)),
                   std::span<const PacketRange>(ranges.data(), n)) > 0) {
      ack_pending_ = false;
      ack_now_ = false;
      eliciting_since_ack_ = 0;
    }
  }
  bool eliciting = false;
  if (can_elicit) {
    fill_control(w, p);
    fill_stream_data(w, p);
    eliciting = p.count > 0;
    if (!eliciting && (probes_pending_ > 0 || ping_pending_)) {
      eliciting = encode_ping(w);
    }
    ping_pending_ = ping_pending_ && !eliciting;
  }
  if (w.size() == packet_header_size(pn)) {
    return 0;  // nothing fitted after all; the packet number stays unused
  }
  p.size = static_cast<std::uint32_t>(w.size());
  p.time_sent = now;
  if (eliciting) {
    p.state = SentPacket::kInFlight;
    bytes_in_flight_ += p.size;
    ++eliciting_in_flight_;
    last_eliciting_sent_ = now;
    pacer_tokens_ -= static_cast<double>(p.size);
    if (probes_pending_ > 0) {
      --probes_pending_;
    }
  } else {
    p.state = SentPacket::kDone;
  }
  ++next_pn_;
  ++stats_.packets_sent;
  pop_done_packets();
  return w.size();
}

void Session::fill_control(ByteWriter& w, SentPacket& p) {
  auto record = [&p](SentRecord::Kind kind, StreamId id) {
    p.records[p.count++] = SentRecord{kind, false, 0, id, 0};
  };
  if (max_data_pending_ && p.count < kMaxRecords && encode_max_data(w, local_max_data_)) {
    max_data_pending_ = false;
    record(SentRecord::kMaxData, 0);
  }
  if (max_streams_pending_ && p.count < kMaxRecords && encode_max_streams(w, local_max_streams_)) {
    max_streams_pending_ = false;
    record(SentRecord::kMaxStreams, 0);
  }
  while (!control_queue_.empty() && p.count < kMaxRecords) {
    Stream* s = find(control_queue_.front());
    if (s == nullptr) {
      control_queue_.pop_front();
      continue;
    }
    if (s->reset_pending && p.count < kMaxRecords &&
        encode_reset_stream(w, s->id, s->reset_code, s->send_next)) {
      s->reset_pending = false;
      record(SentRecord::kReset, s->id);
    }
    if (s->stop_pending && p.count < kMaxRecords && encode_stop_sending(w, s->id, s->stop_code)) {
      s->stop_pending = false;
      record(SentRecord::kStop, s->id);
    }
    if (s->max_data_pending && p.count < kMaxRecords &&
        encode_max_stream_data(w, s->id, s->local_max)) {
      s->max_data_pending = false;
      record(SentRecord::kMaxStreamData, s->id);
    }
    if (s->reset_pending || s->stop_pending || s->max_data_pending) {
      return;  // out of room: the rest goes in the next packet
    }
    s->in_control_queue = false;
    control_queue_.pop_front();
  }
}

void Session::fill_stream_data(ByteWriter& w, SentPacket& p) {
  std::size_t visits = send_queue_.size();
  while (visits-- > 0 && p.count < kMaxRecords && w.remaining() >= kMinStreamFrameRoom) {
    const StreamId id = send_queue_.front();
    send_queue_.pop_front();
    Stream* s = find(id);
    if (s == nullptr) {
      continue;
    }
    s->in_send_queue = false;
    if (fill_one_stream(w, p, *s)) {
      queue_send(*s);
    }
  }
}

bool Session::fill_one_stream(ByteWriter& w, SentPacket& p, Stream& s) {
  while (p.count < kMaxRecords && s.has_data_to_send()) {
    std::uint64_t off = 0;
    std::uint64_t avail = 0;
    const bool retransmission = !s.retransmit.empty();
    if (retransmission) {
      off = s.retransmit.front().start;
      avail = s.retransmit.front().end - off;
    } else {
      off = s.send_next;
      avail = s.written - s.send_next;
    }
    const std::size_t room = w.remaining();
    const std::size_t overhead = stream_frame_overhead(
        s.id, off, static_cast<std::size_t>(std::min<std::uint64_t>(avail, room)));
    if (room < overhead + (avail > 0 ? 1 : 0)) {
      return true;
    }
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(avail, room - overhead));
    // The FIN rides on the frame that reaches the end of what was written.
    const bool fin = s.fin_requested && !s.fin_acked && off + len == s.written &&
                     (!s.fin_sent || s.fin_resend || retransmission);
    if (!encode_stream_header(w, s.id, off, len, fin)) {
      return true;
    }
    s.send_buf.for_each_piece(off, len, [&w](Bytes piece) { w.write_bytes(piece); });
    p.records[p.count++] =
        SentRecord{SentRecord::kStreamData, fin, static_cast<std::uint32_t>(len), s.id, off};
    if (retransmission) {
      s.retransmit.remove(off, off + len);
      stats_.bytes_retransmitted += len;
    } else {
      s.send_next += len;
    }
    if (fin) {
      s.fin_sent = true;
      s.fin_resend = false;
    }
    if (w.remaining() < kMinStreamFrameRoom) {
      break;
    }
  }
  return s.has_data_to_send();
}

}  // namespace nyx::stream
