// Session: the receiving half, from a datagram to its frames' effects on
// streams, flow control and the peer's limits.

#include <algorithm>

#include "stream/session.hpp"

namespace nyx::stream {

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
  if (received_.is_duplicate(pn)) {
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
  received_.on_packet(pn, now, eliciting);
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
    case FrameType::kStopSending:
      return on_stop_sending_frame(f);
    case FrameType::kMaxData:
      on_max_data_frame(f.value);
      return {};
    case FrameType::kMaxStreamData:
      return on_max_stream_data_frame(f);
    case FrameType::kMaxStreams:
      on_max_streams_frame(f.value);
      return {};
    default:
      return std::unexpected(session_error(SessionError::kInternal, "unhandled frame type"));
  }
}

Result<Session::StreamState*> Session::stream_for_frame(StreamId id) {
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

Status Session::on_conn_received(std::uint64_t grew) {
  conn_received_ += grew;
  if (conn_received_ > conn_window_.limit()) {
    return std::unexpected(session_error(SessionError::kFlowControl, "connection window exceeded"));
  }
  return {};
}

Status Session::on_stream_frame(const Frame& f) {
  auto found = stream_for_frame(f.stream_id);
  if (!found) {
    return std::unexpected(found.error());
  }
  StreamState* s = *found;
  if (s == nullptr || s->recv_done()) {
    return {};  // a late copy for a finished stream
  }
  auto grew = s->on_data(f.offset, f.data.size(), f.fin);
  if (!grew) {
    return std::unexpected(grew.error());
  }
  if (auto st = on_conn_received(*grew); !st) {
    return st;
  }
  if (s->stopped) {
    discard_unread(*s);
  } else if (s->store(f.offset, f.data)) {
    mark_readable(*s);
  }
  return {};
}

Status Session::on_reset_frame(const Frame& f) {
  auto found = stream_for_frame(f.stream_id);
  if (!found) {
    return std::unexpected(found.error());
  }
  StreamState* s = *found;
  if (s == nullptr || s->recv_done()) {
    return {};
  }
  auto grew = s->on_reset(f.final_size);
  if (!grew) {
    return std::unexpected(grew.error());
  }
  if (auto st = on_conn_received(*grew); !st) {
    return st;
  }
  consume_conn(s->discard_to(f.final_size));
  push(EventType::kStreamReset, f.stream_id, f.value);
  maybe_finalize(*s);
  return {};
}

Status Session::on_stop_sending_frame(const Frame& f) {
  auto s = stream_for_frame(f.stream_id);
  if (!s) {
    return std::unexpected(s.error());
  }
  if (*s != nullptr && !(*s)->send_done() && !(*s)->reset_local()) {
    do_reset(**s, f.value);
    push(EventType::kStopSending, f.stream_id, f.value);
  }
  return {};
}

void Session::on_max_data_frame(std::uint64_t max) {
  if (!conn_credit_.raise(max)) {
    return;
  }
  for (StreamId id : conn_blocked_) {
    if (StreamState* s = find(id); s != nullptr && s->want_writable) {
      s->want_writable = false;
      push(EventType::kWritable, id);
    }
  }
  conn_blocked_.clear();
}

Status Session::on_max_stream_data_frame(const Frame& f) {
  auto s = stream_for_frame(f.stream_id);
  if (!s) {
    return std::unexpected(s.error());
  }
  if (*s != nullptr && (*s)->credit.raise(f.value) && (*s)->want_writable) {
    (*s)->want_writable = false;
    push(EventType::kWritable, f.stream_id);
  }
  return {};
}

void Session::on_max_streams_frame(std::uint64_t max) {
  if (max > peer_max_streams_) {
    peer_max_streams_ = max;
    if (open_blocked_) {
      open_blocked_ = false;
      push(EventType::kStreamsAvailable, 0);
    }
  }
}

}  // namespace nyx::stream
