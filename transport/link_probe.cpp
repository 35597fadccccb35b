#include "transport/link_probe.hpp"

#include <array>
#include <cstdint>

#include <asio/connect.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>

#include "async/timer.hpp"
#include "async/use_result.hpp"
#include "core/bytes.hpp"
#include "core/crypto/random.hpp"
#include "core/crypto/x25519.hpp"
#include "transport/noise_handshake.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport {
namespace {

Status socket_failure(std::string_view what, const asio::error_code& ec) {
  return make_error(ErrorCategory::kIo, fmt::format("{}: {}", what, ec.message()), ec.value());
}

Status unproven() {
  return make_error(ErrorCategory::kProtocol, "the relay did not prove its link key");
}

// The probe's own initiator: a fresh static that no message of the first two
// uses, and the link prologue.
struct ProbeHandshake {
  explicit ProbeHandshake(const PeerKey& responder)
      : local(crypto::X25519KeyPair::generate()),
        noise(NoiseHandshake::initiator(local, responder, as_bytes(kLinkPrologue))) {}
  ProbeHandshake(const ProbeHandshake&) = delete;
  ProbeHandshake& operator=(const ProbeHandshake&) = delete;
  crypto::X25519KeyPair local;
  NoiseHandshake noise;  // borrows `local`, declared before it is destroyed
};

// Whether `message2` is this handshake's answer from the key's holder.
bool proves_key(NoiseHandshake& noise, Bytes message2) {
  std::array<std::uint8_t, 16> payload{};
  return noise.read_message(message2, payload).has_value();
}

}  // namespace

asio::awaitable<Status> probe_udp_link(const PeerKey& responder,
                                       const asio::ip::udp::endpoint& endpoint,
                                       async::TimerService& timers, Nanos retry) {
  using asio::experimental::awaitable_operators::operator||;
  const auto executor = co_await asio::this_coro::executor;
  ProbeHandshake handshake(responder);
  std::array<std::uint8_t, NoiseHandshake::kMessage1Size> message1{};
  if (auto written = handshake.noise.write_message({}, message1); !written) {
    co_return std::unexpected(std::move(written.error()));
  }
  std::uint32_t index = 0;
  crypto::random_bytes(MutableBytes(reinterpret_cast<std::uint8_t*>(&index), sizeof index));
  std::array<std::uint8_t, kDatagramSize> init{};
  write_handshake_init(init, index, message1);

  asio::ip::udp::socket socket(executor);
  asio::error_code ec;
  socket.open(endpoint.protocol(), ec);
  if (ec) {
    co_return socket_failure("udp probe socket", ec);
  }
  async::Timer resend(executor, timers);
  std::array<std::uint8_t, kDatagramSize + 1> datagram{};
  asio::ip::udp::endpoint from;
  for (Nanos interval = retry;; interval *= 2) {
    auto [sent_ec, sent] =
        co_await socket.async_send_to(asio::buffer(init), endpoint, async::use_result);
    if (sent_ec) {
      co_return socket_failure("udp probe send", sent_ec);
    }
    resend.expires_after(interval);
    for (;;) {
      auto raced =
          co_await (socket.async_receive_from(asio::buffer(datagram), from, async::use_result) ||
                    resend.wait());
      if (raced.index() == 1) {
        break;  // nothing yet: message 1 again
      }
      auto [received_ec, size] = std::get<0>(raced);
      if (received_ec) {
        co_return socket_failure("udp probe receive", received_ec);
      }
      if (from != endpoint) {
        continue;  // not the probed relay
      }
      auto message = parse_udp_message(Bytes(datagram).first(size));
      if (!message || message->type != UdpMessageType::kHandshakeResponse ||
          message->receiver_index != index) {
        continue;  // not an answer to this probe
      }
      co_return proves_key(handshake.noise, message->payload) ? Status{} : unproven();
    }
  }
}

asio::awaitable<Status> probe_tcp_link(const PeerKey& responder,
                                       const asio::ip::tcp::endpoint& endpoint) {
  const auto executor = co_await asio::this_coro::executor;
  ProbeHandshake handshake(responder);
  // Frames as TcpLink writes them: a 2-byte big-endian length, the message.
  std::array<std::uint8_t, 2 + NoiseHandshake::kMessage1Size> frame1{};
  store_be16(frame1.data(), NoiseHandshake::kMessage1Size);
  if (auto written = handshake.noise.write_message({}, MutableBytes(frame1).subspan(2)); !written) {
    co_return std::unexpected(std::move(written.error()));
  }
  asio::ip::tcp::socket socket(executor);
  auto [connect_ec] = co_await socket.async_connect(endpoint, async::use_result);
  if (connect_ec) {
    co_return socket_failure("tcp probe connect", connect_ec);
  }
  auto [write_ec, written] =
      co_await asio::async_write(socket, asio::buffer(frame1), async::use_result);
  if (write_ec) {
    co_return socket_failure("tcp probe send", write_ec);
  }
  std::array<std::uint8_t, 2 + NoiseHandshake::kMessage2Size> frame2{};
  auto [read_ec, read] = co_await asio::async_read(socket, asio::buffer(frame2), async::use_result);
  if (read_ec) {
    co_return socket_failure("tcp probe receive", read_ec);
  }
  if (load_be16(frame2.data()) != NoiseHandshake::kMessage2Size) {
    co_return unproven();
  }
  co_return proves_key(handshake.noise, Bytes(frame2).subspan(2)) ? Status{} : unproven();
}

}  // namespace nyx::transport
