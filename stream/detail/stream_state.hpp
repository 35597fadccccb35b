#pragma once
// One stream as its Session sees it: the send side and the receive side,
// each a state machine from RFC 9000 section 3, with their buffers, the
// ranges acknowledged, lost or received, and their flow-control windows.
//
// States rather than flags: SendState and RecvState say where each side is
// in its life. What stays a bool is independent of that: a frame waiting to
// go out (fin_pending, reset_pending, stop_pending, max_data_pending), the
// application's own requests and notifications (stopped, want_writable,
// readable_signalled) and membership of the Session's queues.
//
// Ownership and threading: owned by its Session (in streams_), used on the
// Session's thread only. The Session applies the connection-level effects
// (connection flow control, events, forgetting the stream).

#include <cstdint>

#include "core/bytes.hpp"
#include "core/error.hpp"
#include "stream/detail/chunk_queue.hpp"
#include "stream/detail/range_set.hpp"
#include "stream/detail/sent_packets.hpp"
#include "stream/flow_window.hpp"

namespace nyx::stream::detail {

// RFC 9000 3.1. kDataSent starts when the application finishes, not when
// the FIN frame first leaves: what is left to send (fin_pending, unsent or
// lost bytes) is tracked the same way in both, so the split would add a
// state nothing reads.
enum class SendState : std::uint8_t {
  kReady,
  kSend,
  kDataSent,
  kDataRecvd,
  kResetSent,
  kResetRecvd
};

// RFC 9000 3.2, without its transient states: DATA_RECVD (all data in,
// not all read) needs no action here, and a reset is reported to the
// application as it arrives, so RESET_RECVD becomes RESET_READ at once.
enum class RecvState : std::uint8_t { kRecv, kSizeKnown, kDataRead, kResetRead };

struct StreamState {
  // A STREAM frame is not started in less room than this.
  static constexpr std::size_t kMinFrameRoom = 16;

  StreamState(std::uint64_t stream_id, std::uint64_t initial_max_stream_data,
              std::uint64_t max_window, Nanos now)
      : id(stream_id),
        credit(initial_max_stream_data),
        window(initial_max_stream_data, max_window, now) {}

  // --- sending ---
  std::uint64_t written() const noexcept { return credit.used(); }
  bool may_write() const noexcept { return send == SendState::kReady || send == SendState::kSend; }
  bool reset_local() const noexcept {
    return send == SendState::kResetSent || send == SendState::kResetRecvd;
  }
  bool send_done() const noexcept {
    return send == SendState::kDataRecvd || send == SendState::kResetRecvd;
  }
  bool has_data_to_send() const noexcept {
    return !reset_local() &&
           (!retransmit.empty() || send_next < written() || (fin_pending && !fin_acked));
  }
  // Copies data in after what was written; flow control allowed it.
  void take(Bytes data);
  void finish() noexcept;
  // Abandons sending; returns the bytes taken but never sent, which are not
  // part of the final size.
  std::uint64_t reset(std::uint64_t code);
  // True when this acknowledgement completed the send side (DATA_RECVD).
  bool on_data_acked(const SentRecord& r);
  // Queues the lost part again; false when nothing will be resent.
  bool on_data_lost(const SentRecord& r);
  // Writes STREAM frames (retransmissions first) into w, recording them in
  // p; returns whether data is left to send.
  bool write_frames(ByteWriter& w, SentPacket& p, std::uint64_t& bytes_retransmitted);

  // --- receiving ---
  bool size_known() const noexcept { return recv != RecvState::kRecv; }
  bool recv_done() const noexcept {
    return recv == RecvState::kDataRead || recv == RecvState::kResetRead;
  }
  bool all_read() const noexcept { return size_known() && read_offset == final_size; }
  // Checks a STREAM frame's range against the final size and the window;
  // returns how far it raised the highest offset received.
  Result<std::uint64_t> on_data(std::uint64_t offset, std::size_t length, bool fin);
  // Checks a RESET_STREAM's final size; returns as on_data.
  Result<std::uint64_t> on_reset(std::uint64_t size);
  // Buffers what is new in a frame on_data accepted; true when there is
  // something to read.
  bool store(std::uint64_t offset, Bytes data);
  std::size_t read(MutableBytes out);
  // Drops everything unread below end; returns how many bytes that was.
  std::uint64_t discard_to(std::uint64_t end);

  std::uint64_t id;

  SendState send = SendState::kReady;
  ChunkQueue send_buf;          // bytes [acked_prefix, written())
  RangeSet acked;               // acknowledged ranges above acked_prefix
  RangeSet retransmit;          // lost ranges waiting to go out again
  SendCredit credit;            // the peer's MAX_STREAM_DATA; used() is what write() took
  std::uint64_t send_next = 0;  // first offset never sent
  std::uint64_t acked_prefix = 0;
  std::uint64_t reset_code = 0;
  bool fin_pending = false;  // the FIN must (again) go out
  bool fin_acked = false;    // possibly before every byte is
  bool reset_pending = false;
  bool want_writable = false;
  bool in_send_queue = false;
  bool in_control_queue = false;

  RecvState recv = RecvState::kRecv;
  ChunkQueue recv_buf;  // bytes [read_offset, ...) where received says
  RangeSet received;
  std::uint64_t read_offset = 0;
  std::uint64_t highest = 0;     // highest offset seen, for flow control
  std::uint64_t final_size = 0;  // once size_known()
  ReceiveWindow window;          // our MAX_STREAM_DATA
  std::uint64_t stop_code = 0;
  bool stopped = false;  // the application sent STOP_SENDING: arrivals are dropped
  bool stop_pending = false;
  bool max_data_pending = false;
  bool readable_signalled = false;
};

}  // namespace nyx::stream::detail
