#include "stream/detail/stream_state.hpp"

#include <algorithm>

#include "stream/frame.hpp"
#include "stream/session.hpp"

namespace nyx::stream::detail {

void StreamState::take(Bytes data) {
  send_buf.write(written(), data);
  credit.use(data.size());
  send = SendState::kSend;
}

void StreamState::finish() noexcept {
  if (may_write()) {
    send = SendState::kDataSent;
    fin_pending = true;
  }
}

std::uint64_t StreamState::reset(std::uint64_t code) {
  send = SendState::kResetSent;
  reset_code = code;
  reset_pending = true;
  const std::uint64_t unsent = written() - send_next;
  credit.give_back(unsent);
  send_buf.clear(send_next);
  retransmit.clear();
  acked.clear();
  return unsent;
}

bool StreamState::on_data_acked(const SentRecord& r) {
  if (reset_local()) {
    return false;
  }
  acked.add(r.offset, r.offset + r.length);
  retransmit.remove(r.offset, r.offset + r.length);
  while (!acked.empty() && acked.front().start <= acked_prefix) {
    acked_prefix = std::max(acked_prefix, acked.front().end);
    acked.remove_below(acked_prefix);
  }
  send_buf.release_below(acked_prefix);
  if (r.fin) {
    fin_acked = true;
  }
  if (fin_acked && acked_prefix == written() && send == SendState::kDataSent) {
    send = SendState::kDataRecvd;
    return true;
  }
  return false;
}

bool StreamState::on_data_lost(const SentRecord& r) {
  if (reset_local()) {
    return false;
  }
  const std::uint64_t lo = std::max(r.offset, acked_prefix);
  const std::uint64_t hi = r.offset + r.length;
  if (lo < hi) {
    acked.for_each_gap(lo, hi, [this](std::uint64_t a, std::uint64_t b) { retransmit.add(a, b); });
  }
  if (r.fin && !fin_acked) {
    fin_pending = true;
  }
  return true;
}

bool StreamState::write_frames(ByteWriter& w, SentPacket& p, std::uint64_t& bytes_retransmitted) {
  while (!p.full() && has_data_to_send()) {
    const bool retransmission = !retransmit.empty();
    const std::uint64_t off = retransmission ? retransmit.front().start : send_next;
    const std::uint64_t avail = (retransmission ? retransmit.front().end : written()) - off;
    const std::size_t room = w.remaining();
    const std::size_t overhead = stream_frame_overhead(
        id, off, static_cast<std::size_t>(std::min<std::uint64_t>(avail, room)));
    if (room < overhead + (avail > 0 ? 1 : 0)) {
      return true;
    }
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(avail, room - overhead));
    // The FIN rides on the frame that reaches the end of what was written.
    const bool fin = send == SendState::kDataSent && !fin_acked && off + len == written() &&
                     (fin_pending || retransmission);
    if (!encode_stream_header(w, id, off, len, fin)) {
      return true;
    }
    send_buf.for_each_piece(off, len, [&w](Bytes piece) { w.write_bytes(piece); });
    p.add(SentRecord{SentRecord::kStreamData, fin, static_cast<std::uint32_t>(len), id, off});
    if (retransmission) {
      retransmit.remove(off, off + len);
      bytes_retransmitted += len;
    } else {
      send_next += len;
    }
    if (fin) {
      fin_pending = false;
    }
    if (w.remaining() < kMinFrameRoom) {
      break;
    }
  }
  return has_data_to_send();
}

Result<std::uint64_t> StreamState::on_data(std::uint64_t offset, std::size_t length, bool fin) {
  const std::uint64_t end = offset + length;
  if (size_known()) {
    if (end > final_size || (fin && end != final_size)) {
      return std::unexpected(session_error(SessionError::kFinalSize, "data beyond final size"));
    }
  } else if (fin) {
    if (end < highest) {
      return std::unexpected(session_error(SessionError::kFinalSize, "FIN below received data"));
    }
    final_size = end;
    recv = RecvState::kSizeKnown;
  }
  if (end > window.limit()) {
    return std::unexpected(session_error(SessionError::kFlowControl, "stream window exceeded"));
  }
  const std::uint64_t grew = end > highest ? end - highest : 0;
  highest = std::max(highest, end);
  return grew;
}

Result<std::uint64_t> StreamState::on_reset(std::uint64_t size) {
  if ((size_known() && final_size != size) || size < highest) {
    return std::unexpected(session_error(SessionError::kFinalSize, "reset changes final size"));
  }
  if (size > window.limit()) {
    return std::unexpected(session_error(SessionError::kFlowControl, "stream window exceeded"));
  }
  const std::uint64_t grew = size - highest;
  highest = size;
  final_size = size;
  recv = RecvState::kResetRead;
  return grew;
}

bool StreamState::store(std::uint64_t offset, Bytes data) {
  const std::uint64_t end = offset + data.size();
  if (end > read_offset) {
    const std::uint64_t start = std::max(offset, read_offset);
    // Copy only what has not arrived before (retransmissions overlap).
    received.for_each_gap(start, end, [&](std::uint64_t a, std::uint64_t b) {
      recv_buf.write(
          a, data.subspan(static_cast<std::size_t>(a - offset), static_cast<std::size_t>(b - a)));
    });
    received.add(start, end);
  }
  const bool data_ready = !received.empty() && received.front().start <= read_offset;
  return data_ready || all_read();
}

std::size_t StreamState::read(MutableBytes out) {
  std::uint64_t avail = 0;
  if (!received.empty() && received.front().start <= read_offset) {
    avail = received.front().end - read_offset;
  }
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(avail, out.size()));
  if (n > 0) {
    recv_buf.read(read_offset, out.data(), n);
    read_offset += n;
    received.remove_below(read_offset);
    recv_buf.release_below(read_offset);
  }
  if (n == avail) {
    readable_signalled = false;
  }
  return n;
}

std::uint64_t StreamState::discard_to(std::uint64_t end) {
  const std::uint64_t n = end - read_offset;
  read_offset = end;
  recv_buf.clear(end);
  received.clear();
  return n;
}

}  // namespace nyx::stream::detail
