#include "stream/session_driver.hpp"

#include <algorithm>

namespace nyx::stream {

SessionDriver::SessionDriver(Session& session, DatagramChannel& channel, const Clock& clock)
    : session_(session),
      channel_(channel),
      clock_(clock),
      scratch_(BufferPool::acquire(SizeClass::kLarge)) {
  channel_.set_receiver(this);
}

SessionDriver::~SessionDriver() { channel_.set_receiver(nullptr); }

void SessionDriver::on_datagram(Bytes datagram) {
  session_.handle_datagram(datagram, clock_.now());
}

SendOutcome SessionDriver::flush() {
  const Nanos now = clock_.now();  // one clock read per batch, not per datagram
  const std::size_t max = std::min(channel_.max_datagram_size(), scratch_.capacity());
  for (;;) {
    if (!pending_) {
      const std::size_t n = session_.poll_transmit(scratch_.space().first(max), now);
      if (n == 0) {
        return SendOutcome::kSent;
      }
      scratch_.set_size(n);
    }
    const SendOutcome sent = channel_.send(scratch_.bytes());
    pending_ = sent == SendOutcome::kBlocked;
    if (pending_) {
      // No writable signal on the channel: the session's deadline becomes
      // a bounded retry instead of "now" for work only a send can do.
      session_.on_transmit_blocked(now);
    }
    if (sent != SendOutcome::kSent) {
      return sent;
    }
  }
}

SendOutcome SessionDriver::run_timers() {
  const auto deadline = session_.next_deadline();
  if (deadline && clock_.now() >= *deadline) {
    session_.handle_timeout(clock_.now());
  }
  return flush();
}

}  // namespace nyx::stream
