#include "transport/tcp_pool.hpp"

#include <cerrno>

#include <asio/co_spawn.hpp>
#include <sys/socket.h>

#include "async/spawn.hpp"
#include "async/use_result.hpp"
#include "async/with_deadline.hpp"
#include "core/crypto/random.hpp"

namespace nyx::transport {
namespace {

// The socket has been closed or reset by the peer (a non-blocking peek sees
// EOF or an error other than "nothing to read yet").
bool peer_closed(asio::ip::tcp::socket::native_handle_type fd) {
  char byte = 0;
  const auto n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

TcpPool::TcpPool(asio::io_context& io, const Clock& clock, async::TimerService& timers,
                 const crypto::X25519KeyPair& identity, TcpPoolConfig config)
    : io_(io),
      clock_(clock),
      timers_(timers),
      identity_(std::shared_ptr<const crypto::X25519KeyPair>{}, &identity),
      config_(config),
      upkeep_timer_(io.get_executor(), timers),
      gate_(io.get_executor()) {
  async::spawn(io_.get_executor(), upkeep_loop(*gate_.enter()), "tcp pool upkeep");
}

TcpPool::~TcpPool() { stop(); }

Status TcpPool::listen(const asio::ip::tcp::endpoint& at) {
  asio::error_code ec;
  acceptor_.emplace(io_);
  acceptor_->open(at.protocol(), ec);
  if (!ec) {
    acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_->bind(at, ec);
  }
  if (!ec) {
    acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    acceptor_.reset();
    return make_error(ErrorCategory::kIo, "tcp listen: " + ec.message(), ec.value());
  }
  if (auto pass = gate_.enter()) {
    async::spawn(io_.get_executor(), accept_loop(std::move(*pass)), "tcp pool accept");
  }
  return {};
}

std::optional<asio::ip::tcp::endpoint> TcpPool::local_endpoint() const {
  if (!acceptor_) {
    return std::nullopt;
  }
  asio::error_code ec;
  auto ep = acceptor_->local_endpoint(ec);
  if (ec) {
    return std::nullopt;
  }
  return ep;
}

asio::awaitable<void> TcpPool::accept_loop(async::Gate::Holder pass) {
  while (!pass.gate_closed() && acceptor_) {
    auto [ec, socket] = co_await acceptor_->async_accept(async::use_result);
    if (pass.gate_closed()) {
      co_return;
    }
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      continue;  // e.g. EMFILE: keep serving the others
    }
    if (links_.size() >= config_.max_total) {
      continue;  // the socket closes as it goes out of scope
    }
    auto link = std::make_shared<TcpLink>(std::move(socket), identity_, timers_,
                                          config_.max_buffered_bytes);
    // Each inbound handshake runs on its own so a slow peer holds up nobody.
    if (auto handshake_pass = gate_.enter()) {
      async::spawn(io_.get_executor(),
                   inbound_handshake(std::move(link), std::move(*handshake_pass)),
                   "tcp pool inbound handshake");
    }
  }
}

asio::awaitable<void> TcpPool::inbound_handshake(std::shared_ptr<TcpLink> link,
                                                 async::Gate::Holder pass) {
  handshaking_.insert(link);
  auto status = co_await link->handshake_as_responder(config_.connect_timeout);
  if (pass.gate_closed()) {
    co_return;  // stop() aborted it; the pool may be gone
  }
  handshaking_.erase(link);
  if (!status) {
    co_return;
  }
  ++counters_.accepted;
  ++peers_[link->peer()].in_use;
  adopt(link);
  if (on_accepted_) {
    on_accepted_(*link);
  }
}

void TcpPool::adopt(std::shared_ptr<TcpLink> link) {
  TcpLink* raw = link.get();
  links_.emplace(raw, link);
  // No guard needed: only an open pool adopts, stop() closes every adopted
  // link, and a closed link calls neither handler again.
  raw->start(
      [this](TcpLink& l, Bytes cell) {
        if (on_cell_) {
          on_cell_(l, cell);
        }
      },
      [this](TcpLink& l) { on_link_closed(l); });
}

asio::awaitable<Result<TcpLink*>> TcpPool::acquire(
    PeerKey peer, asio::ip::tcp::endpoint at,
    std::shared_ptr<const crypto::X25519KeyPair> local_static) {
  if (!local_static || local_static.get() == identity_.get()) {
    if (TcpLink* hit = try_acquire(peer)) {
      co_return hit;
    }
    local_static = identity_;
  }
  ++counters_.misses;
  auto pass = gate_.enter();
  if (!pass) {
    co_return make_error(ErrorCategory::kClosed, "tcp pool stopped");
  }
  PeerEntry& entry = peers_[peer];
  const Nanos start = clock_.now();
  if (start < entry.next_attempt) {
    co_return make_error(ErrorCategory::kResourceExhausted, "tcp pool: backing off");
  }
  if (entry.in_use + entry.idle.size() + entry.connecting >= config_.max_per_peer ||
      links_.size() >= config_.max_total) {
    co_return make_error(ErrorCategory::kResourceExhausted, "tcp pool: connection limit");
  }
  ++entry.connecting;
  asio::ip::tcp::socket socket(io_);
  std::shared_ptr<TcpLink> link;
  Status status;
  // The connect gets the deadline; the handshake gets what is left of it.
  // After each await the gate is checked before anything of the pool is
  // touched: stop() may have aborted the operation and the pool may be gone.
  connecting_.insert(&socket);
  auto connected = co_await async::with_deadline(socket.async_connect(at, async::use_result),
                                                 config_.connect_timeout, timers_);
  if (pass->gate_closed()) {
    co_return make_error(ErrorCategory::kClosed, "tcp pool stopped");
  }
  connecting_.erase(&socket);
  const asio::error_code ec = connected ? std::get<0>(*connected) : connected.error();
  if (ec) {
    status = make_error(ErrorCategory::kIo, "tcp connect: " + ec.message(), ec.value());
  }
  if (status) {
    link = std::make_shared<TcpLink>(std::move(socket), std::move(local_static), timers_,
                                     config_.max_buffered_bytes);
    const Nanos elapsed = clock_.now() - start;
    handshaking_.insert(link);
    status = co_await link->handshake_as_initiator(
        peer, std::max(Nanos{1}, config_.connect_timeout - elapsed));
    if (pass->gate_closed()) {
      co_return make_error(ErrorCategory::kClosed, "tcp pool stopped");
    }
    handshaking_.erase(link);
  }
  PeerEntry& after = peers_[peer];
  --after.connecting;
  if (!status) {
    ++counters_.connect_failures;
    after.backoff = after.backoff.count() == 0 ? config_.backoff_initial
                                               : std::min(after.backoff * 2, config_.backoff_max);
    // Jitter in [0.5, 1.5) of the back-off keeps peers from retrying in step.
    const auto jitter = crypto::random_uniform(1000);
    after.next_attempt = clock_.now() + after.backoff / 2 + after.backoff * jitter / 1000;
    co_return std::unexpected(status.error());
  }
  after.backoff = Nanos{0};
  after.next_attempt = Nanos{0};
  ++after.in_use;
  ++counters_.connects;
  counters_.connect_latency_ns_total += static_cast<std::uint64_t>((clock_.now() - start).count());
  TcpLink* raw = link.get();
  adopt(std::move(link));
  co_return raw;
}

void TcpPool::acquire_async(const PeerKey& peer, const asio::ip::tcp::endpoint& at,
                            std::shared_ptr<const crypto::X25519KeyPair> local_static,
                            AcquireHandler handler) {
  asio::co_spawn(io_, acquire(peer, at, std::move(local_static)),
                 [handler = std::move(handler)](std::exception_ptr e, Result<TcpLink*> result) {
                   if (e) {
                     handler(make_error(ErrorCategory::kInternal, "tcp pool: acquire threw"));
                     return;
                   }
                   handler(std::move(result));
                 });
}

std::size_t TcpPool::idle_count(const PeerKey& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? 0 : it->second.idle.size();
}

void TcpPool::discard(TcpLink* link) {
  link->close();  // reports to on_link_closed, which forgets it
  auto it = links_.find(link);
  if (it != links_.end()) {
    // In-flight operations hold their own reference; this drops the pool's.
    links_.erase(it);
  }
}

void TcpPool::on_link_closed(TcpLink& link) {
  auto it = peers_.find(link.peer());
  if (it != peers_.end()) {
    auto& idle = it->second.idle;
    const auto before = idle.size();
    std::erase(idle, &link);
    if (idle.size() == before && it->second.in_use > 0) {
      --it->second.in_use;
    }
  }
  if (on_closed_ && !stopped_) {
    on_closed_(link);
  }
  links_.erase(&link);
}

asio::awaitable<void> TcpPool::upkeep_loop(async::Gate::Holder pass) {
  for (;;) {
    upkeep_timer_.expires_after(config_.upkeep_interval);
    const asio::error_code ec = co_await upkeep_timer_.wait();
    if (ec || pass.gate_closed()) {
      co_return;
    }
    upkeep();
  }
}

void TcpPool::upkeep() {
  ++ticks_;
  const auto idle_ticks = static_cast<std::uint64_t>(
      std::max<std::int64_t>(1, config_.idle_timeout / config_.upkeep_interval));
  std::vector<TcpLink*> doomed;
  for (auto& [key, entry] : peers_) {
    for (TcpLink* link : entry.idle) {
      if (ticks_ - link->idle_since >= idle_ticks) {
        ++counters_.evictions;
        doomed.push_back(link);
      } else if (!link->healthy() || peer_closed(link->native_handle())) {
        ++counters_.dead_discarded;
        doomed.push_back(link);
      }
    }
  }
  for (TcpLink* link : doomed) {
    discard(link);
  }
}

void TcpPool::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  gate_.close();
  upkeep_timer_.cancel();
  asio::error_code ignored;
  for (asio::ip::tcp::socket* socket : connecting_) {
    socket->close(ignored);
  }
  connecting_.clear();
  for (const auto& link : handshaking_) {
    link->close();
  }
  handshaking_.clear();
  if (acceptor_) {
    asio::error_code ec;
    acceptor_->close(ec);
  }
  auto links = std::move(links_);
  links_.clear();
  for (auto& [raw, link] : links) {
    link->close();
  }
  peers_.clear();
}

}  // namespace nyx::transport
