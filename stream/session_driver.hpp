#pragma once
// Binds a sans-I/O Session to a DatagramChannel and a Clock.
//
// The driver is the channel's receiver: each arriving datagram goes to the
// session with the time of arrival. flush() sends whatever the session has
// ready until it has nothing or a send is refused, and returns the outcome
// of the last send; run_timers() runs the session's timers when they are
// due. The owner's event loop calls flush() after it fed the session
// (datagrams, writes) and schedules a timer for next_deadline(). A datagram
// the channel refused with kBlocked is kept and offered again, before any
// new one is polled, by the next flush(), so backpressure never loses data;
// the session is told (Session::on_transmit_blocked), so that while the
// channel pushes back its deadline is a bounded retry, never a "now" that
// stays due: the owner's timer is the wake-up.
//
// Ownership: the owner keeps session, channel and clock alive longer than
// the driver. Not thread-safe: one thread drives everything.

#include <optional>

#include "core/clock.hpp"
#include "core/datagram_channel.hpp"
#include "stream/buffer_pool.hpp"
#include "stream/session.hpp"

namespace nyx::stream {

class SessionDriver final : public DatagramReceiver {
 public:
  SessionDriver(Session& session, DatagramChannel& channel, const Clock& clock);
  ~SessionDriver() override;
  SessionDriver(const SessionDriver&) = delete;
  SessionDriver& operator=(const SessionDriver&) = delete;

  void on_datagram(Bytes datagram) override;
  // Sends until the session has nothing more (kSent) or the channel refuses:
  // kBlocked (the datagram is kept; call again later), kClosed or kTooLarge
  // (the datagram is dropped: the channel is unusable for this session).
  SendOutcome flush();
  // Runs the session's timers if due, then flushes.
  SendOutcome run_timers();
  std::optional<Nanos> next_deadline() const noexcept { return session_.next_deadline(); }

 private:
  Session& session_;
  DatagramChannel& channel_;
  const Clock& clock_;
  Buffer scratch_;
  bool pending_ = false;  // scratch_ holds a datagram the channel refused
};

}  // namespace nyx::stream
