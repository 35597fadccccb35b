#pragma once
// UdpEndpoint: one non-blocking UDP socket with batched I/O.
//
// Receiving: when the socket is readable, recvmmsg() fills a fixed ring of
// buffers (allocated once, reused batch after batch) and the whole batch is
// handed to the receive handler. Sending: callers fill slots of a fixed send
// ring (prepare_send), and flush() hands every pending datagram to the kernel
// with one sendmmsg(); consecutive datagrams to the same address travel as
// one UDP GSO super-packet (UDP_SEGMENT) when the kernel supports it, and
// plain sendmmsg() is used when it does not. When the socket would block the
// rest stays queued until it is writable; when the ring is full
// prepare_send() refuses and the drop is counted. Nothing allocates per
// packet.
//
// Owned by one LinkManager (or a benchmark) on one shard; not thread-safe.
// close() cancels the pending waits; a wait that completed just before, and
// runs after the endpoint is gone, finds its gate closed and does nothing.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include "async/gate.hpp"
#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx::transport {

struct UdpEndpointConfig {
  asio::ip::udp::endpoint bind{asio::ip::address_v6::any(), 0};
  int receive_buffer = 4 << 20;
  int send_buffer = 4 << 20;
  std::size_t slot_size = 2048;             // bytes per ring slot (the largest datagram)
  std::size_t receive_batch = 64;           // datagrams per recvmmsg()
  std::size_t send_ring = 1024;             // datagrams waiting for flush()
  std::size_t max_batches_per_wakeup = 16;  // fairness: yield to other handlers after this
  bool enable_gso = true;
};

struct UdpDatagram {
  Bytes data;
  const asio::ip::udp::endpoint* from;
};

struct UdpEndpointCounters {
  std::uint64_t packets_received = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t batches_received = 0;
  std::uint64_t batches_sent = 0;
  std::uint64_t dropped_send_ring_full = 0;
  std::uint64_t send_errors = 0;
};

class UdpEndpoint {
 public:
  using ReceiveHandler = std::function<void(std::span<const UdpDatagram>)>;

  static Result<std::unique_ptr<UdpEndpoint>> open(asio::io_context& io, UdpEndpointConfig config);
  ~UdpEndpoint();
  UdpEndpoint(const UdpEndpoint&) = delete;
  UdpEndpoint& operator=(const UdpEndpoint&) = delete;

  // Starts the receive loop; the handler sees each batch once.
  void start(ReceiveHandler handler);

  // A slot of slot_size bytes for a datagram to `to`; empty when the ring is
  // full (counted). Fill it, then commit_send(size) before the next prepare.
  MutableBytes prepare_send(const asio::ip::udp::endpoint& to);
  void commit_send(std::size_t size);
  // Hands every committed datagram to the kernel (what would block waits for
  // writability and is sent then).
  void flush();

  // Reads whatever is queued in the socket now, without waiting (benchmarks
  // and tests that drive the loop by hand). Returns the datagrams delivered.
  std::size_t poll_receive();

  asio::ip::udp::endpoint local_endpoint() const;
  const UdpEndpointCounters& counters() const noexcept { return counters_; }
  bool gso_enabled() const noexcept { return gso_; }
  void close();

 private:
  UdpEndpoint(asio::io_context& io, UdpEndpointConfig config);
  void arm_receive();
  void arm_send();
  std::size_t receive_batches(std::size_t max_batches);
  std::size_t send_some();

  struct Ring;
  asio::ip::udp::socket socket_;
  UdpEndpointConfig config_;
  ReceiveHandler handler_;
  std::unique_ptr<Ring> ring_;
  std::size_t send_head_ = 0;   // oldest committed slot
  std::size_t send_count_ = 0;  // committed slots
  bool send_prepared_ = false;
  bool send_waiting_ = false;
  bool receiving_ = false;
  bool gso_ = false;
  bool v6_ = false;
  UdpEndpointCounters counters_;
  async::Gate gate_;  // each pending wait holds it
};

}  // namespace nyx::transport
