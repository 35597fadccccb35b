#pragma once
// UdpSessionKeys: the per-datagram work of one UDP link session — sealing a
// cell into a fixed-size datagram under the next explicit counter, and
// opening one: replay check, authentication with the 16-byte header as
// associated data, then marking the counter seen (docs/protocol.md, "Links
// (transport)"). The LinkManager owns one per session; the benchmark measures
// exactly this.
//
// One owner; not thread-safe.

#include <cstdint>

#include "core/bytes.hpp"
#include "transport/noise_cipher_state.hpp"
#include "transport/replay_window.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport {

class UdpSessionKeys {
 public:
  enum class OpenResult : std::uint8_t { kOk, kReplay, kBadTag };

  UdpSessionKeys(NoiseCipherState send, NoiseCipherState receive, std::uint32_t remote_index)
      : send_(std::move(send)), receive_(std::move(receive)), remote_index_(remote_index) {}

  // Writes a whole kDatagramSize datagram carrying `cell` (kCellSize bytes).
  // False only when the counter space is exhausted (never before a rekey).
  bool seal(UdpMessageType type, Bytes cell, MutableBytes datagram) {
    const std::uint64_t counter = send_counter_;
    write_data_header(datagram, type, remote_index_, counter);
    if (!send_.encrypt_at(counter, datagram.first(kDataHeaderSize), cell,
                          datagram.subspan(kDataHeaderSize, kSealedCellSize))) {
      return false;
    }
    ++send_counter_;
    return true;
  }

  // Opens a parsed data or keepalive message into `cell` (kCellSize bytes).
  OpenResult open(const UdpMessage& message, MutableBytes cell) {
    if (!window_.check(message.counter)) {
      return OpenResult::kReplay;
    }
    if (!receive_.decrypt_at(message.counter, message.header, message.payload, cell)) {
      return OpenResult::kBadTag;
    }
    window_.update(message.counter);
    return OpenResult::kOk;
  }

  std::uint64_t send_counter() const noexcept { return send_counter_; }

 private:
  NoiseCipherState send_;
  NoiseCipherState receive_;
  std::uint32_t remote_index_;
  std::uint64_t send_counter_ = 0;
  ReplayWindow window_;
};

}  // namespace nyx::transport
