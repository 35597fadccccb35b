#pragma once
// The seam between the stream layer and whatever carries its datagrams.
//
// A DatagramChannel moves whole datagrams of at most max_datagram_size()
// bytes, unreliably: like UDP it may lose, reorder or duplicate them and
// says nothing when it does. The mix layer implements it with a circuit, the
// stream tests with an in-memory lossy pipe. It is free of asio on purpose:
// the layers above drive it from whatever event loop they own.
//
// Ownership and threading: the owner of the channel (the daemon's shard, or
// a test) calls every method from one thread, and the channel calls the
// receiver on that same thread. The receiver is a plain reference: whoever
// registers it keeps it alive until it is unregistered (set_receiver(nullptr))
// or the channel is destroyed.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/bytes.hpp"

namespace nyx {

// What became of one send. A value, not an Error: pushback is the normal
// pacing signal of a busy channel and costs nothing to report.
enum class SendOutcome : std::uint8_t {
  // Queued. That does not mean delivered.
  kSent,
  // Refused for now (a bounded queue is full, a circuit still building):
  // stop sending and offer it again later; the channel gives no writable
  // signal, so the caller retries on a timer of its own.
  kBlocked,
  // The channel is gone; no send will succeed again.
  kClosed,
  // Larger than max_datagram_size(): a bug in the caller, never a state of
  // the channel.
  kTooLarge,
};

constexpr std::string_view to_string(SendOutcome outcome) noexcept {
  switch (outcome) {
    case SendOutcome::kSent:
      return "sent";
    case SendOutcome::kBlocked:
      return "blocked";
    case SendOutcome::kClosed:
      return "closed";
    case SendOutcome::kTooLarge:
      return "too large";
  }
  return "unknown";
}

// Called by a channel once per arriving datagram; the bytes are valid only
// during the call.
class DatagramReceiver {
 public:
  virtual ~DatagramReceiver() = default;
  virtual void on_datagram(Bytes datagram) = 0;
};

class DatagramChannel {
 public:
  virtual ~DatagramChannel() = default;

  // The largest payload one datagram carries (a circuit: about 950-990
  // bytes). The stream layer works with any value of 512 or more.
  virtual std::size_t max_datagram_size() const noexcept = 0;

  // Queues one datagram; the outcome says whether it was taken and, if not,
  // what the caller should do (see SendOutcome).
  virtual SendOutcome send(Bytes datagram) = 0;

  // Registers the one receiver of arriving datagrams (nullptr to stop).
  virtual void set_receiver(DatagramReceiver* receiver) noexcept = 0;
};

}  // namespace nyx
