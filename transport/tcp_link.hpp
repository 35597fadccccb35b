#pragma once
// TcpLink: one Noise XK link over a TCP connection (the fallback when UDP
// cannot be used). Every message, handshake or transport, is prefixed with
// its length as 2 bytes big-endian (Noise spec §13); a transport message
// carries one cell (1040 bytes sealed) or nothing (a 16-byte keepalive), with
// the spec's implicit nonce counter. TCP_NODELAY is set and the link
// coalesces itself: cells sent in one event-loop turn leave in one write.
//
// Lifetime: created and owned by the TcpPool (shared so that in-flight
// operations keep it alive until they complete); users hold raw pointers
// that stay valid until the closed handler ran. One shard; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "async/deferred_callback.hpp"
#include "async/timer_service.hpp"
#include "core/bytes.hpp"
#include "core/cell_size.hpp"
#include "core/clock.hpp"
#include "core/crypto/x25519.hpp"
#include "core/error.hpp"
#include "transport/noise_cipher_state.hpp"
#include "transport/peer_key.hpp"

namespace nyx::transport {

class TcpLink : public std::enable_shared_from_this<TcpLink> {
 public:
  static constexpr std::size_t kSealedCellSize = kCellSize + NoiseCipherState::kTagSize;
  static constexpr std::size_t kFrameSize = 2 + kSealedCellSize;  // 1042

  using CellHandler = std::function<void(TcpLink&, Bytes cell)>;
  using ClosedHandler = std::function<void(TcpLink&)>;

  // The handshake's deadline runs on `timers`; `local_static` is the key
  // this end shows (the pool's identity, not owned, or a link's own key).
  TcpLink(asio::ip::tcp::socket socket, std::shared_ptr<const crypto::X25519KeyPair> local_static,
          async::TimerService& timers, std::size_t max_buffered_bytes);
  TcpLink(const TcpLink&) = delete;
  TcpLink& operator=(const TcpLink&) = delete;

  // Runs the initiator side: the socket must be connected. Fails on a
  // deadline, a wrong responder key or a closed socket.
  asio::awaitable<Status> handshake_as_initiator(PeerKey responder, Nanos timeout);
  asio::awaitable<Status> handshake_as_responder(Nanos timeout);

  // After a successful handshake: starts the read loop; cells and the end of
  // the connection are reported to the handlers.
  void start(CellHandler on_cell, ClosedHandler on_closed);

  // Seals and queues one cell; false (the caller counts a drop) when the
  // link is not established or its write buffer is full.
  bool send_cell(Bytes cell);

  bool established() const noexcept { return established_ && open_; }
  // A link whose read loop saw EOF, a reset or an error is never healthy.
  bool healthy() const noexcept { return established(); }
  const PeerKey& peer() const noexcept { return peer_; }
  const crypto::X25519KeyPair& local_static() const noexcept { return *local_static_; }
  // The connection's remote address. Remembered once the socket first
  // knows it: a reset peer's socket forgets it (ENOTCONN) while cells it
  // sent are still being read, and CREATE admission groups by it.
  std::optional<asio::ip::address> remote_address() const {
    if (!remote_address_) {
      asio::error_code ec;
      const auto endpoint = socket_.remote_endpoint(ec);
      if (!ec) {
        remote_address_ = endpoint.address();
      }
    }
    return remote_address_;
  }
  std::size_t buffered_bytes() const noexcept { return out_[0].size() + out_[1].size(); }
  void close();
  asio::ip::tcp::socket::native_handle_type native_handle() { return socket_.native_handle(); }

  // Idle bookkeeping for the pool (the pool's tick count at release).
  std::uint64_t idle_since = 0;

 private:
  asio::awaitable<Status> initiator_steps(PeerKey responder);
  asio::awaitable<Status> responder_steps();
  asio::awaitable<Status> write_frame(Bytes message);
  asio::awaitable<Result<std::size_t>> read_frame(MutableBytes out);
  void read_more();
  void on_read(std::size_t n);
  void write_buffered();

  asio::ip::tcp::socket socket_;
  mutable std::optional<asio::ip::address> remote_address_;  // see remote_address()
  std::shared_ptr<const crypto::X25519KeyPair> local_static_;
  async::TimerService& timers_;
  std::size_t max_buffered_;
  PeerKey peer_{};
  NoiseCipherState send_;
  NoiseCipherState receive_;
  CellHandler on_cell_;
  ClosedHandler on_closed_;
  std::vector<std::uint8_t> in_;
  std::size_t in_used_ = 0;
  std::array<std::uint8_t, kCellSize> cell_{};
  std::vector<std::uint8_t> out_[2];
  int filling_ = 0;
  bool writing_ = false;
  // Cells sent in one turn leave in one write, at the end of the turn.
  async::DeferredCallback write_soon_;
  bool established_ = false;
  bool open_ = true;
};

}  // namespace nyx::transport
