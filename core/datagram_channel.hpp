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

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx {

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

  // Queues one datagram. Success does not mean delivery. Errors:
  // kResourceExhausted when the channel's bounded queue is full (the caller
  // should stop and try again later: this is the pacing backpressure),
  // kClosed once the channel is closed, kInvalidArgument when the datagram is
  // larger than max_datagram_size().
  virtual Status send(Bytes datagram) = 0;

  // Registers the one receiver of arriving datagrams (nullptr to stop).
  virtual void set_receiver(DatagramReceiver* receiver) noexcept = 0;
};

}  // namespace nyx
