#include "transport/link_probe.hpp"

#include <array>
#include <cstdint>
#include <optional>

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

// Each answer that fails to prove the key costs a read and a rebuild (four
// X25519 operations): past this many the probe ends unproven, so a forger
// who saw the probe's index cannot make it spend more.
constexpr int kMaxUnprovenAnswers = 4;

Status unproven() {
  return make_error(ErrorCategory::kProtocol, "the relay did not prove its link key");
}

// The probe's own initiator: a fresh static that no message of the first two
// uses, and the link prologue. Message 1 is a function of the keys alone (no
// payload), so the handshake can be rebuilt to the state after it: a UDP
// answer that fails to prove the key (an on-path forger's, or garbage that
// reached the probe's port) is then dropped, and the relay's own answer
// still verifies, as a link's initiator drops such a datagram and waits.
class ProbeHandshake {
 public:
  explicit ProbeHandshake(const PeerKey& responder)
      : responder_(responder),
        local_(crypto::X25519KeyPair::generate()),
        ephemeral_(crypto::EphemeralSecret<32>::random()) {}
  ProbeHandshake(const ProbeHandshake&) = delete;
  ProbeHandshake& operator=(const ProbeHandshake&) = delete;

  // A handshake after message 1, and message 1 written to `out`.
  Status start(MutableBytes out) {
    noise_.emplace(NoiseHandshake::initiator(local_, responder_, as_bytes(kLinkPrologue),
                                             Bytes(ephemeral_.span())));
    auto written = noise_->write_message({}, out);
    return written ? Status{} : std::unexpected(std::move(written.error()));
  }
  // Whether `message2` is this handshake's answer from the key's holder.
  // On false the handshake is started again, ready for another answer.
  bool proves_key(Bytes message2) {
    std::array<std::uint8_t, 16> payload{};
    if (noise_->read_message(message2, payload).has_value()) {
      return true;
    }
    // The same message 1 as before: what wrote it once writes it again.
    std::array<std::uint8_t, NoiseHandshake::kMessage1Size> again{};
    (void)start(again);
    return false;
  }

 private:
  PeerKey responder_;
  crypto::X25519KeyPair local_;
  crypto::EphemeralSecret<32> ephemeral_;
  std::optional<NoiseHandshake> noise_;  // borrows `local_`, declared after it
};

}  // namespace

asio::awaitable<Status> probe_udp_link(const PeerKey& responder,
                                       const asio::ip::udp::endpoint& endpoint,
                                       async::TimerService& timers, Nanos retry) {
  using asio::experimental::awaitable_operators::operator||;
  const auto executor = co_await asio::this_coro::executor;
  ProbeHandshake handshake(responder);
  std::array<std::uint8_t, NoiseHandshake::kMessage1Size> message1{};
  if (auto started = handshake.start(message1); !started) {
    co_return started;
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
  int unproven_answers = 0;
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
      if (handshake.proves_key(message->payload)) {
        co_return Status{};
      }
      // Not from the key's holder: the relay's own answer may still come.
      if (++unproven_answers >= kMaxUnprovenAnswers) {
        co_return unproven();
      }
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
  if (auto started = handshake.start(MutableBytes(frame1).subspan(2)); !started) {
    co_return started;
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
  // The length first: a frame of another size is no message 2, and is not
  // waited for.
  std::array<std::uint8_t, 2> length{};
  auto [length_ec, length_read] =
      co_await asio::async_read(socket, asio::buffer(length), async::use_result);
  if (length_ec) {
    co_return socket_failure("tcp probe receive", length_ec);
  }
  if (load_be16(length.data()) != NoiseHandshake::kMessage2Size) {
    co_return unproven();
  }
  std::array<std::uint8_t, NoiseHandshake::kMessage2Size> message2{};
  auto [read_ec, read] =
      co_await asio::async_read(socket, asio::buffer(message2), async::use_result);
  if (read_ec) {
    co_return socket_failure("tcp probe receive", read_ec);
  }
  // On TCP the answer comes from the connected peer alone: one try.
  co_return handshake.proves_key(message2) ? Status{} : unproven();
}

}  // namespace nyx::transport
