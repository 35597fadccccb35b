#include "stream/session.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace nyx::stream {
namespace {

constexpr std::uint64_t kPacketThreshold = 3;  // RFC 9002 6.1.1

SessionConfig sanitized(SessionConfig config) {
  config.max_datagram_size = std::max<std::size_t>(config.max_datagram_size, 512);
  config.initial_rtt = std::max(config.initial_rtt, RttEstimator::kGranularity);
  return config;
}

}  // namespace

Error session_error(SessionError code, std::string message) {
  return Error{ErrorCategory::kProtocol, static_cast<int>(code), std::move(message)};
}

Session::Session(Role role, const SessionConfig& config, Nanos now)
    : config_(sanitized(config)),
      role_(role),
      now_(now),
      peer_max_streams_(config.max_concurrent_streams),
      local_max_streams_(config.max_concurrent_streams),
      conn_credit_(config.initial_max_data),
      conn_window_(config.initial_max_data, config.max_data_window, now),
      received_(config.max_ack_delay, config.ack_eliciting_threshold),
      last_received_(now),
      rtt_(config_.initial_rtt),
      congestion_(make_congestion_controller(config.congestion, config_.max_datagram_size)),
      pacer_(config_.max_datagram_size, now) {}

Session::~Session() = default;

bool Session::is_local(StreamId id) const noexcept {
  return (id & 1) == static_cast<std::uint64_t>(role_);
}

Session::StreamState* Session::find(StreamId id) noexcept {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

Result<Session::StreamState*> Session::find_open(StreamId id) {
  if (state_ != State::kOpen) {
    return make_error(ErrorCategory::kClosed, "session closed");
  }
  StreamState* s = find(id);
  if (s == nullptr) {
    return make_error(ErrorCategory::kNotFound, "no such stream");
  }
  return s;
}

Session::StreamState& Session::create_stream(StreamId id) {
  auto s = std::make_unique<StreamState>(id, config_.initial_max_stream_data,
                                         config_.max_stream_data_window, now_);
  StreamState& ref = *s;
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
  StreamState& st = **s;
  if (!st.may_write()) {
    return make_error(ErrorCategory::kClosed, "stream finished or reset",
                      static_cast<int>(SessionError::kStreamState));
  }
  const std::uint64_t stream_credit = st.credit.available();
  const std::uint64_t conn_credit = conn_credit_.available();
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>({stream_credit, conn_credit, data.size()}));
  if (n < data.size()) {
    if (!st.want_writable && conn_credit < stream_credit) {
      conn_blocked_.push_back(id);
    }
    st.want_writable = true;
  }
  if (n > 0) {
    st.take(data.first(n));
    conn_credit_.use(n);
    queue_send(st);
  }
  return n;
}

Status Session::finish(StreamId id) {
  auto s = find_open(id);
  if (!s) {
    return std::unexpected(s.error());
  }
  if ((*s)->reset_local()) {
    return make_error(ErrorCategory::kClosed, "stream reset",
                      static_cast<int>(SessionError::kStreamState));
  }
  (*s)->finish();
  queue_send(**s);
  return {};
}

Result<ReadResult> Session::read(StreamId id, MutableBytes out) {
  auto found = find_open(id);
  if (!found) {
    return std::unexpected(found.error());
  }
  StreamState& s = **found;
  if (s.stopped) {
    return make_error(ErrorCategory::kClosed, "stream stopped",
                      static_cast<int>(SessionError::kStreamState));
  }
  const std::size_t n = s.read(out);
  const ReadResult r{n, s.all_read()};
  after_read(s, n);
  if (r.fin && !s.recv_done()) {
    s.recv = detail::RecvState::kDataRead;
    maybe_finalize(s);
  }
  return r;
}

void Session::after_read(StreamState& s, std::size_t n) {
  if (n == 0) {
    return;
  }
  consume_conn(n);
  // Once the final size is known the peer needs no more credit.
  if (!s.size_known() && s.window.on_consumed(s.read_offset, now_, rtt_.smoothed())) {
    s.max_data_pending = true;
    queue_control(s);
  }
}

void Session::consume_conn(std::uint64_t n) {
  conn_consumed_ += n;
  if (conn_window_.on_consumed(conn_consumed_, now_, rtt_.smoothed())) {
    max_data_pending_ = true;
  }
}

Status Session::reset(StreamId id, std::uint64_t code) {
  auto s = find_open(id);
  if (!s) {
    return std::unexpected(s.error());
  }
  if (!(*s)->send_done() && !(*s)->reset_local()) {
    do_reset(**s, code);
  }
  return {};
}

void Session::do_reset(StreamState& s, std::uint64_t code) {
  conn_credit_.give_back(s.reset(code));
  queue_control(s);
}

Status Session::stop_sending(StreamId id, std::uint64_t code) {
  auto found = find_open(id);
  if (!found) {
    return std::unexpected(found.error());
  }
  StreamState& s = **found;
  if (s.recv_done() || s.stopped) {
    return {};
  }
  s.stopped = true;
  s.stop_code = code;
  s.stop_pending = true;
  queue_control(s);
  discard_unread(s);
  return {};
}

void Session::discard_unread(StreamState& s) {
  consume_conn(s.discard_to(s.highest));
  if (s.size_known() && s.highest == s.final_size) {
    s.recv = detail::RecvState::kDataRead;
    maybe_finalize(s);
  }
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

void Session::queue_send(StreamState& s) {
  if (!s.in_send_queue) {
    s.in_send_queue = true;
    send_queue_.push_back(s.id);
  }
}

void Session::queue_control(StreamState& s) {
  if (!s.in_control_queue) {
    s.in_control_queue = true;
    control_queue_.push_back(s.id);
  }
}

void Session::mark_readable(StreamState& s) {
  if (!s.readable_signalled) {
    s.readable_signalled = true;
    push(EventType::kReadable, s.id);
  }
}

void Session::maybe_finalize(StreamState& s) {
  if (!s.send_done() || !s.recv_done()) {
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

// --- acknowledgements, loss and timers (RFC 9002) -----------------------------

Status Session::on_ack(const AckFrame& ack, Nanos now) {
  if (ack.largest >= sent_.next_pn()) {
    return std::unexpected(
        session_error(SessionError::kProtocolViolation, "ACK for a packet never sent"));
  }
  const std::uint64_t prior_in_flight = bytes_in_flight_;
  bool newly_eliciting = false;
  bool largest_newly_acked = false;
  Nanos largest_sent{0};
  ack.for_each_range([&](PacketRange r) {
    sent_.acknowledge(r.smallest, r.largest, [&](std::uint64_t pn, SentPacket& p) {
      if (pn == ack.largest) {
        largest_newly_acked = true;
        largest_sent = p.time_sent;
      }
      newly_eliciting = true;
      on_packet_acked(p, now);
    });
  });
  if (!any_acked_ || ack.largest > largest_acked_) {
    largest_acked_ = ack.largest;
    any_acked_ = true;
  }
  if (largest_newly_acked) {
    const Nanos ack_delay =
        std::min<Nanos>(std::chrono::microseconds(std::min<std::uint64_t>(ack.delay_us, 1u << 30)),
                        config_.max_ack_delay);
    rtt_.on_sample(now - largest_sent, ack_delay);
  }
  if (newly_eliciting) {
    pto_count_ = 0;
  }
  detect_lost(now);
  end_congestion_event(now, prior_in_flight);
  sent_.pop_done();
  return {};
}

void Session::end_congestion_event(Nanos now, std::uint64_t prior_in_flight) {
  CongestionEvent e;
  e.rate = delivery_.take_sample(rtt_.min());
  if (event_acked_ == 0 && event_lost_ == 0) {
    return;
  }
  e.now = now;
  e.prior_in_flight = prior_in_flight;
  e.bytes_in_flight = bytes_in_flight_;
  e.bytes_acked = event_acked_;
  e.bytes_lost = event_lost_;
  e.packets_lost = event_lost_packets_;
  e.total_delivered = delivery_.delivered();
  e.min_rtt = rtt_.min();
  e.smoothed_rtt = rtt_.smoothed();
  event_acked_ = 0;
  event_lost_ = 0;
  event_lost_packets_ = 0;
  congestion_->on_congestion_event(e);
}

void Session::on_packet_acked(SentPacket& p, Nanos now) {
  congestion_->on_packet_acked(now, p.time_sent, p.size, bytes_in_flight_);
  delivery_.on_acked(now, p.time_sent, p.size, p.send_state);
  event_acked_ += p.size;
  leave_flight(p);
  for (std::size_t i = 0; i < p.count; ++i) {
    const detail::SentRecord& r = p.records[i];
    StreamState* s = find(r.stream);
    if (s == nullptr) {
      continue;
    }
    if (r.kind == detail::SentRecord::kStreamData) {
      if (s->on_data_acked(r)) {
        maybe_finalize(*s);
      }
    } else if (r.kind == detail::SentRecord::kReset && s->send == detail::SendState::kResetSent) {
      s->reset_pending = false;
      s->send = detail::SendState::kResetRecvd;
      maybe_finalize(*s);
    }
  }
}

void Session::on_packet_lost(SentPacket& p, Nanos now) {
  ++stats_.packets_lost;
  leave_flight(p);
  congestion_->on_packet_lost(now, p.time_sent, p.size);
  delivery_.on_lost(p.size);
  event_lost_ += p.size;
  ++event_lost_packets_;
  for (std::size_t i = 0; i < p.count; ++i) {
    on_record_lost(p.records[i]);
  }
}

void Session::leave_flight(SentPacket& p) {
  // The books hand out only packets in flight, each once (by ack or by
  // loss), and every one of them was counted when it was sent. An underflow
  // here would stop the session from ever sending again, so a release build
  // clamps and counts the bug.
  NYX_ASSERT(p.state == SentPacket::kInFlight, "a packet left flight twice");
  NYX_BUG(bytes_in_flight_ >= p.size && eliciting_in_flight_ > 0,
          "a packet left flight that the in-flight counters do not hold");
  bytes_in_flight_ -= std::min<std::uint64_t>(bytes_in_flight_, p.size);
  eliciting_in_flight_ -= std::min<std::uint64_t>(eliciting_in_flight_, 1);
  p.state = SentPacket::kDone;
}

void Session::on_record_lost(const detail::SentRecord& r) {
  using detail::SentRecord;
  if (r.kind == SentRecord::kMaxData) {
    max_data_pending_ = true;
    return;
  }
  if (r.kind == SentRecord::kMaxStreams) {
    max_streams_pending_ = true;
    return;
  }
  StreamState* s = find(r.stream);
  if (s == nullptr) {
    return;
  }
  switch (r.kind) {
    case SentRecord::kStreamData:
      if (s->on_data_lost(r)) {
        queue_send(*s);
      }
      break;
    case SentRecord::kMaxStreamData:
      if (!s->size_known()) {
        s->max_data_pending = true;
        queue_control(*s);
      }
      break;
    case SentRecord::kReset:
      if (s->send == detail::SendState::kResetSent) {
        s->reset_pending = true;
        queue_control(*s);
      }
      break;
    case SentRecord::kStop:
      if (!s->recv_done()) {
        s->stop_pending = true;
        queue_control(*s);
      }
      break;
    default:
      break;
  }
}

void Session::detect_lost(Nanos now) {
  loss_time_ = Nanos{0};
  if (!any_acked_) {
    return;
  }
  const Nanos loss_delay = rtt_.loss_delay();
  const Nanos lost_send_time = now - loss_delay;
  sent_.for_each_unacked_below(largest_acked_, [&](std::uint64_t pn, SentPacket& p) {
    if (p.time_sent <= lost_send_time || largest_acked_ >= pn + kPacketThreshold) {
      on_packet_lost(p, now);
    } else {
      const Nanos t = p.time_sent + loss_delay;
      if (loss_time_ == Nanos{0} || t < loss_time_) {
        loss_time_ = t;
      }
    }
  });
}

Nanos Session::pto_deadline() const noexcept {
  return last_eliciting_sent_ + rtt_.pto(config_.max_ack_delay, pto_count_);
}

Nanos Session::keep_alive_deadline() const noexcept {
  return std::max(last_eliciting_sent_, last_received_) + config_.keep_alive;
}

std::optional<Nanos> Session::next_deadline() const noexcept {
  if (state_ != State::kOpen) {
    return std::nullopt;
  }
  Nanos d = last_received_ + config_.idle_timeout;
  if (loss_time_ != Nanos{0}) {
    d = std::min(d, loss_time_);
  } else if (eliciting_in_flight_ > 0) {
    d = std::min(d, pto_deadline());
  }
  if (!streams_.empty() && !ping_pending_) {
    d = std::min(d, keep_alive_deadline());
  }
  if (blocked_retry_) {
    // Only a send serves an owed ACK or a pacing release, and none can go
    // before the channel takes the datagram it refused: retry then instead
    // of reporting them due (they would stay due, and the loop would spin).
    return std::min(d, *blocked_retry_);
  }
  if (auto ack = received_.ack_deadline(now_)) {
    d = std::min(d, *ack);
  }
  if (pacing_wait_ && has_data_to_send()) {
    d = std::min(d, *pacing_wait_);
  }
  return d;
}

void Session::on_transmit_blocked(Nanos now) noexcept {
  now_ = now;
  blocked_retry_ = now + config_.pushback_retry;
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
      const std::uint64_t prior_in_flight = bytes_in_flight_;
      detect_lost(now);
      end_congestion_event(now, prior_in_flight);
      sent_.pop_done();
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
  if (pacing_wait_ && now >= *pacing_wait_) {
    // Served: the next poll_transmit asks the pacer again. Kept, it would
    // stay due for ever while the channel pushes back and no poll comes.
    pacing_wait_.reset();
  }
  received_.on_timeout(now);
  if (!streams_.empty() && now >= keep_alive_deadline()) {
    ping_pending_ = true;
  }
}

// --- sending ------------------------------------------------------------------

bool Session::has_data_to_send() const noexcept {
  return !send_queue_.empty() || !control_queue_.empty() || max_data_pending_ ||
         max_streams_pending_ || ping_pending_;
}

bool Session::may_send_eliciting(Nanos now) {
  pacing_wait_.reset();
  if (probes_pending_ > 0) {
    return true;
  }
  if (bytes_in_flight_ + config_.max_datagram_size > congestion_->window()) {
    return false;
  }
  if (const std::uint64_t rate = congestion_->pacing_rate(); rate != 0) {
    pacing_wait_ = pacer_.delay_at_rate(now, rate, congestion_->send_quantum());
  } else {
    pacing_wait_ = pacer_.delay(now, congestion_->window(), rtt_.smoothed());
  }
  return !pacing_wait_;
}

std::size_t Session::poll_transmit(MutableBytes out, Nanos now) {
  now_ = now;
  blocked_retry_.reset();  // the owner polls again: the channel took the refused datagram
  if (state_ == State::kClosed) {
    return 0;
  }
  ByteWriter w(out.first(std::min(out.size(), config_.max_datagram_size)));
  const std::uint64_t pn = sent_.next_pn();
  if (!encode_packet_header(w, pn)) {
    return 0;
  }
  if (state_ == State::kClosing) {
    // One CLOSE, its reason cut to what fits, then silence.
    const std::size_t room = w.remaining() > 24 ? w.remaining() - 24 : 0;
    encode_close(w, close_code_, std::string_view(close_reason_).substr(0, room));
    state_ = State::kClosed;
    sent_.commit();
    ++stats_.packets_sent;
    return w.size();
  }
  if (!has_data_to_send() && probes_pending_ == 0 &&
      bytes_in_flight_ + config_.max_datagram_size <= congestion_->window()) {
    // Nothing to send with the window open: rate samples until what is in
    // flight now is delivered say how fast we sent, not the path.
    delivery_.on_app_limited(bytes_in_flight_);
  }
  const bool want_ack = received_.ack_due(now);
  const bool can_elicit = (has_data_to_send() || probes_pending_ > 0) && may_send_eliciting(now);
  if (!want_ack && !can_elicit) {
    return 0;
  }
  SentPacket& p = sent_.prepare();
  received_.write_ack(w, now);
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
    on_eliciting_sent(p, now);
  } else {
    p.state = SentPacket::kDone;
  }
  sent_.commit();
  ++stats_.packets_sent;
  sent_.pop_done();
  return w.size();
}

void Session::on_eliciting_sent(SentPacket& p, Nanos now) {
  p.state = SentPacket::kInFlight;
  p.send_state = delivery_.on_sent(now, p.size, bytes_in_flight_);
  congestion_->on_packet_sent(now, p.size, bytes_in_flight_);
  bytes_in_flight_ += p.size;
  ++eliciting_in_flight_;
  last_eliciting_sent_ = now;
  pacer_.on_sent(p.size);
  if (probes_pending_ > 0) {
    --probes_pending_;
  }
}

void Session::fill_control(ByteWriter& w, SentPacket& p) {
  using detail::SentRecord;
  if (max_data_pending_ && !p.full() && encode_max_data(w, conn_window_.limit())) {
    max_data_pending_ = false;
    p.add(SentRecord{SentRecord::kMaxData, false, 0, 0, 0});
  }
  if (max_streams_pending_ && !p.full() && encode_max_streams(w, local_max_streams_)) {
    max_streams_pending_ = false;
    p.add(SentRecord{SentRecord::kMaxStreams, false, 0, 0, 0});
  }
  while (!control_queue_.empty() && !p.full()) {
    StreamState* s = find(control_queue_.front());
    if (s == nullptr) {
      control_queue_.pop_front();
      continue;
    }
    fill_stream_control(w, p, *s);
    if (s->reset_pending || s->stop_pending || s->max_data_pending) {
      return;  // out of room: the rest goes in the next packet
    }
    s->in_control_queue = false;
    control_queue_.pop_front();
  }
}

void Session::fill_stream_control(ByteWriter& w, SentPacket& p, StreamState& s) {
  using detail::SentRecord;
  if (s.reset_pending && !p.full() && encode_reset_stream(w, s.id, s.reset_code, s.send_next)) {
    s.reset_pending = false;
    p.add(SentRecord{SentRecord::kReset, false, 0, s.id, 0});
  }
  if (s.stop_pending && !p.full() && encode_stop_sending(w, s.id, s.stop_code)) {
    s.stop_pending = false;
    p.add(SentRecord{SentRecord::kStop, false, 0, s.id, 0});
  }
  if (s.max_data_pending && !p.full() && encode_max_stream_data(w, s.id, s.window.limit())) {
    s.max_data_pending = false;
    p.add(SentRecord{SentRecord::kMaxStreamData, false, 0, s.id, 0});
  }
}

void Session::fill_stream_data(ByteWriter& w, SentPacket& p) {
  std::size_t visits = send_queue_.size();
  while (visits-- > 0 && !p.full() && w.remaining() >= StreamState::kMinFrameRoom) {
    const StreamId id = send_queue_.front();
    send_queue_.pop_front();
    StreamState* s = find(id);
    if (s == nullptr) {
      continue;
    }
    s->in_send_queue = false;
    if (s->write_frames(w, p, stats_.bytes_retransmitted)) {
      queue_send(*s);
    }
  }
}

}  // namespace nyx::stream
