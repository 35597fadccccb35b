#include "transport/tcp_link.hpp"

#include <array>
#include <cstring>

#include <asio/read.hpp>
#include <asio/write.hpp>

#include "async/use_result.hpp"
#include "async/with_deadline.hpp"
#include "transport/noise_handshake.hpp"

namespace nyx::transport {
namespace {

constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::size_t kKeepaliveSize = NoiseCipherState::kTagSize;

// A handshake that outlives its deadline fails as a timeout; its pending
// read or write was cancelled.
Status within(const std::expected<Status, asio::error_code>& outcome) {
  if (!outcome) {
    return make_error(ErrorCategory::kTimeout, "tcp link: handshake " + outcome.error().message(),
                      outcome.error().value());
  }
  return *outcome;
}

}  // namespace

TcpLink::TcpLink(asio::ip::tcp::socket socket,
                 std::shared_ptr<const crypto::X25519KeyPair> local_static,
                 async::TimerService& timers, std::size_t max_buffered_bytes)
    : socket_(std::move(socket)),
      local_static_(std::move(local_static)),
      timers_(timers),
      max_buffered_(max_buffered_bytes),
      in_(kReadBuffer),
      write_soon_(socket_.get_executor(), [this] { write_buffered(); }) {
  asio::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

asio::awaitable<Status> TcpLink::write_frame(Bytes message) {
  std::array<std::uint8_t, 2> length{};
  store_be16(length.data(), static_cast<std::uint16_t>(message.size()));
  std::array<asio::const_buffer, 2> buffers{asio::buffer(length),
                                            asio::buffer(message.data(), message.size())};
  auto [ec, n] = co_await asio::async_write(socket_, buffers, async::use_result);
  if (ec) {
    co_return make_error(ErrorCategory::kIo, "tcp link: " + ec.message(), ec.value());
  }
  co_return Status{};
}

asio::awaitable<Result<std::size_t>> TcpLink::read_frame(MutableBytes out) {
  std::array<std::uint8_t, 2> length{};
  auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(length), async::use_result);
  if (ec) {
    co_return make_error(ErrorCategory::kIo, "tcp link: " + ec.message(), ec.value());
  }
  const std::size_t size = load_be16(length.data());
  if (size > out.size()) {
    co_return make_error(ErrorCategory::kProtocol, "tcp link: handshake message too long");
  }
  auto [ec2, n2] =
      co_await asio::async_read(socket_, asio::buffer(out.data(), size), async::use_result);
  if (ec2) {
    co_return make_error(ErrorCategory::kIo, "tcp link: " + ec2.message(), ec2.value());
  }
  co_return size;
}

asio::awaitable<Status> TcpLink::handshake_as_initiator(PeerKey responder, Nanos timeout) {
  co_return within(co_await async::with_deadline(initiator_steps(responder), timeout, timers_));
}

asio::awaitable<Status> TcpLink::handshake_as_responder(Nanos timeout) {
  co_return within(co_await async::with_deadline(responder_steps(), timeout, timers_));
}

asio::awaitable<Status> TcpLink::initiator_steps(PeerKey responder) {
  auto hs = NoiseHandshake::initiator(*local_static_, responder, as_bytes(kLinkPrologue));
  std::array<std::uint8_t, 128> buf{};
  std::array<std::uint8_t, 128> payload{};
  auto n = hs.write_message({}, buf);
  if (!n) {
    co_return std::unexpected(n.error());
  }
  if (auto st = co_await write_frame(Bytes(buf).first(*n)); !st) {
    co_return st;
  }
  auto got = co_await read_frame(buf);
  if (!got) {
    co_return std::unexpected(got.error());
  }
  if (auto r = hs.read_message(Bytes(buf).first(*got), payload); !r) {
    co_return std::unexpected(r.error());
  }
  n = hs.write_message({}, buf);
  if (!n) {
    co_return std::unexpected(n.error());
  }
  if (auto st = co_await write_frame(Bytes(buf).first(*n)); !st) {
    co_return st;
  }
  auto keys = hs.split();
  send_ = std::move(keys.send);
  receive_ = std::move(keys.receive);
  peer_ = responder;
  established_ = true;
  co_return Status{};
}

asio::awaitable<Status> TcpLink::responder_steps() {
  auto hs = NoiseHandshake::responder(*local_static_, as_bytes(kLinkPrologue));
  std::array<std::uint8_t, 128> buf{};
  std::array<std::uint8_t, 128> payload{};
  auto got = co_await read_frame(buf);
  if (!got) {
    co_return std::unexpected(got.error());
  }
  if (auto r = hs.read_message(Bytes(buf).first(*got), payload); !r) {
    co_return std::unexpected(r.error());
  }
  auto n = hs.write_message({}, buf);
  if (!n) {
    co_return std::unexpected(n.error());
  }
  if (auto st = co_await write_frame(Bytes(buf).first(*n)); !st) {
    co_return st;
  }
  got = co_await read_frame(buf);
  if (!got) {
    co_return std::unexpected(got.error());
  }
  if (auto r = hs.read_message(Bytes(buf).first(*got), payload); !r) {
    co_return std::unexpected(r.error());
  }
  auto keys = hs.split();
  send_ = std::move(keys.send);
  receive_ = std::move(keys.receive);
  peer_ = hs.remote_static();
  established_ = true;
  co_return Status{};
}

void TcpLink::start(CellHandler on_cell, ClosedHandler on_closed) {
  on_cell_ = std::move(on_cell);
  on_closed_ = std::move(on_closed);
  read_more();
}

void TcpLink::read_more() {
  if (!open_) {
    return;
  }
  socket_.async_read_some(asio::buffer(in_.data() + in_used_, in_.size() - in_used_),
                          [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                            if (ec) {
                              self->close();
                              return;
                            }
                            self->on_read(n);
                          });
}

void TcpLink::on_read(std::size_t n) {
  in_used_ += n;
  std::size_t pos = 0;
  while (open_ && in_used_ - pos >= 2) {
    const std::size_t size = load_be16(in_.data() + pos);
    if (size != kSealedCellSize && size != kKeepaliveSize) {
      close();  // a peer that breaks the framing is not a peer
      return;
    }
    if (in_used_ - pos < 2 + size) {
      break;
    }
    const Bytes sealed(in_.data() + pos + 2, size);
    pos += 2 + size;
    if (size == kKeepaliveSize) {
      std::array<std::uint8_t, 0> none{};
      if (!receive_.decrypt_with_ad({}, sealed, none)) {
        close();
        return;
      }
      continue;
    }
    if (!receive_.decrypt_with_ad({}, sealed, cell_)) {
      close();  // the stream cannot resynchronise after a bad tag
      return;
    }
    if (on_cell_) {
      on_cell_(*this, cell_);
    }
  }
  if (pos > 0) {
    std::memmove(in_.data(), in_.data() + pos, in_used_ - pos);
    in_used_ -= pos;
  }
  read_more();
}

bool TcpLink::send_cell(Bytes cell) {
  if (!established() || cell.size() != kCellSize) {
    return false;
  }
  auto& buf = out_[filling_];
  if (buffered_bytes() + kFrameSize > max_buffered_) {
    return false;
  }
  const std::size_t offset = buf.size();
  buf.resize(offset + kFrameSize);
  store_be16(buf.data() + offset, static_cast<std::uint16_t>(kSealedCellSize));
  if (!send_.encrypt_with_ad({}, cell, MutableBytes(buf.data() + offset + 2, kSealedCellSize))) {
    buf.resize(offset);
    return false;
  }
  if (!writing_) {
    write_soon_.schedule();  // otherwise the running write's completion takes it
  }
  return true;
}

void TcpLink::write_buffered() {
  if (writing_ || !open_ || out_[filling_].empty()) {
    return;
  }
  writing_ = true;
  auto& buf = out_[filling_];
  filling_ ^= 1;
  asio::async_write(socket_, asio::buffer(buf),
                    [self = shared_from_this(), &buf](const asio::error_code& ec, std::size_t) {
                      buf.clear();
                      self->writing_ = false;
                      if (ec) {
                        self->close();
                        return;
                      }
                      self->write_buffered();
                    });
}

void TcpLink::close() {
  if (!open_) {
    return;
  }
  open_ = false;
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (on_closed_) {
    auto handler = std::move(on_closed_);
    handler(*this);
  }
}

}  // namespace nyx::transport
