// Transport microbenchmarks, each beside its baseline (docs/performance.md,
// "Transport").
//
//   BM_Udp_Batched/1200            UdpEndpoint: 64 datagrams per sendmmsg/GSO
//                                  and per recvmmsg over loopback
//   BM_Baseline_Udp_SendtoRecvfrom one sendto() and one recvfrom() per datagram
//   BM_Link_SealOpen/1200          a link datagram sealed and opened (header,
//                                  explicit counter, AD, replay window, parse)
//   BM_Baseline_Aead_SealOpen      ChaCha20-Poly1305 seal+open of the same cell
//   BM_TcpPool_AcquireHit          try_acquire + release of a pooled link
//   BM_Baseline_TcpConnect         a fresh loopback connect + accept
//   BM_Noise_Handshake             a full XK handshake, both sides, in memory
//
// The /1200 argument is the datagram budget in bytes: the UDP benchmarks send
// datagrams of that size; the seal/open pair both process the 1024-byte cell
// that a 1200-byte budget carries, with the same 16 bytes of associated data.

#include <array>
#include <optional>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include "core/cell_size.hpp"
#include "core/crypto/aead.hpp"
#include "core/crypto/x25519.hpp"
#include "transport/noise_handshake.hpp"
#include "transport/tcp_pool.hpp"
#include "transport/udp_endpoint.hpp"
#include "transport/udp_session.hpp"
#include "transport/udp_wire.hpp"

namespace nyx::transport {
namespace {

constexpr std::size_t kBatch = 64;

asio::ip::udp::endpoint loopback_udp() { return {asio::ip::make_address("127.0.0.1"), 0}; }

void BM_Baseline_Udp_SendtoRecvfrom(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  asio::io_context io;
  asio::ip::udp::socket tx(io, loopback_udp());
  asio::ip::udp::socket rx(io, loopback_udp());
  rx.set_option(asio::socket_base::receive_buffer_size(4 << 20));
  const auto to = rx.local_endpoint();
  std::vector<std::uint8_t> out(size, 0x5a);
  std::vector<std::uint8_t> in(2048);
  sockaddr_storage from{};
  for (auto _ : state) {
    const auto sent = ::sendto(tx.native_handle(), out.data(), out.size(), 0, to.data(),
                               static_cast<socklen_t>(to.size()));
    socklen_t from_len = sizeof from;
    const auto got = ::recvfrom(rx.native_handle(), in.data(), in.size(), 0,
                                reinterpret_cast<sockaddr*>(&from), &from_len);
    benchmark::DoNotOptimize(sent);
    benchmark::DoNotOptimize(got);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(size));
}
BENCHMARK(BM_Baseline_Udp_SendtoRecvfrom)->Arg(1200);

void BM_Udp_Batched(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  asio::io_context io;
  UdpEndpointConfig config;
  config.bind = loopback_udp();
  config.receive_batch = kBatch;
  auto tx = UdpEndpoint::open(io, config);
  auto rx = UdpEndpoint::open(io, config);
  if (!tx || !rx) {
    state.SkipWithError("cannot open sockets");
    return;
  }
  std::size_t received = 0;
  (*rx)->start([&](std::span<const UdpDatagram> batch) {
    received += batch.size();
    benchmark::DoNotOptimize(batch.data());
  });
  const auto to = (*rx)->local_endpoint();
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      MutableBytes slot = (*tx)->prepare_send(to);
      slot[0] = static_cast<std::uint8_t>(i);
      (*tx)->commit_send(size);
    }
    (*tx)->flush();
    std::size_t want = kBatch;
    while (want > 0) {
      received = 0;
      (*rx)->poll_receive();
      want -= std::min(want, received);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kBatch));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kBatch * size));
  state.counters["gso"] = (*tx)->gso_enabled() ? 1 : 0;
}
BENCHMARK(BM_Udp_Batched)->Arg(1200);

std::array<std::uint8_t, 32> fixed_key(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return key;
}

void BM_Baseline_Aead_SealOpen(benchmark::State& state) {
  const auto key = fixed_key(7);
  std::array<std::uint8_t, crypto::kAeadNonceSize> nonce{};
  std::array<std::uint8_t, kDataHeaderSize> ad{};
  std::vector<std::uint8_t> cell(kCellSize, 0x42);
  std::vector<std::uint8_t> sealed(kCellSize + crypto::kAeadTagSize);
  std::vector<std::uint8_t> opened(kCellSize);
  std::uint64_t n = 0;
  for (auto _ : state) {
    store_le64(nonce.data() + 4, n++);
    crypto::aead_seal(key, nonce, ad, cell, sealed);
    auto ok = crypto::aead_open(key, nonce, ad, sealed, opened);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(opened.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Baseline_Aead_SealOpen)->Arg(1200);

void BM_Link_SealOpen(benchmark::State& state) {
  const auto key = fixed_key(7);
  NoiseCipherState tx_send;
  NoiseCipherState tx_receive;
  NoiseCipherState rx_send;
  NoiseCipherState rx_receive;
  tx_send.initialize_key(key);
  tx_receive.initialize_key(key);
  rx_send.initialize_key(key);
  rx_receive.initialize_key(key);
  UdpSessionKeys sender(std::move(tx_send), std::move(tx_receive), 42);
  UdpSessionKeys receiver(std::move(rx_send), std::move(rx_receive), 7);
  // The receiver finds its session by index, as the link does.
  std::unordered_map<std::uint32_t, UdpSessionKeys*> sessions{{42, &receiver}};
  std::vector<std::uint8_t> cell(kCellSize, 0x42);
  std::vector<std::uint8_t> datagram(kDatagramSize);
  std::vector<std::uint8_t> opened(kCellSize);
  for (auto _ : state) {
    sender.seal(UdpMessageType::kData, cell, datagram);
    auto message = parse_udp_message(datagram);
    auto result = sessions.find(message->receiver_index)->second->open(*message, opened);
    benchmark::DoNotOptimize(result);
    benchmark::DoNotOptimize(opened.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Link_SealOpen)->Arg(1200);

void BM_Baseline_TcpConnect(benchmark::State& state) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto at = acceptor.local_endpoint();
  for (auto _ : state) {
    asio::ip::tcp::socket client(io);
    client.connect(at);
    asio::ip::tcp::socket server = acceptor.accept();
    benchmark::DoNotOptimize(server.native_handle());
    // RST instead of FIN so TIME_WAIT does not pile up over millions of runs.
    client.set_option(asio::socket_base::linger(true, 0));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Baseline_TcpConnect);

void BM_TcpPool_AcquireHit(benchmark::State& state) {
  asio::io_context io;
  const auto server_key = crypto::X25519KeyPair::generate();
  const auto client_key = crypto::X25519KeyPair::generate();
  TcpPool server(io, SteadyClock::instance(), async::SteadyTimers::instance(), server_key, {});
  TcpPool client(io, SteadyClock::instance(), async::SteadyTimers::instance(), client_key, {});
  if (!server.listen({asio::ip::make_address("127.0.0.1"), 0})) {
    state.SkipWithError("cannot listen");
    return;
  }
  std::optional<Result<TcpLink*>> acquired;
  client.acquire_async(server_key.public_key, *server.local_endpoint(),
                       [&](Result<TcpLink*> r) { acquired = std::move(r); });
  while (!acquired) {
    io.run_one();
  }
  if (!*acquired) {
    state.SkipWithError("cannot connect");
    return;
  }
  client.release(**acquired);
  const PeerKey peer = server_key.public_key;
  for (auto _ : state) {
    TcpLink* link = client.try_acquire(peer);
    benchmark::DoNotOptimize(link);
    client.release(link);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["hits"] = static_cast<double>(client.counters().hits);
}
BENCHMARK(BM_TcpPool_AcquireHit);

void BM_Noise_Handshake(benchmark::State& state) {
  const auto initiator_key = crypto::X25519KeyPair::generate();
  const auto responder_key = crypto::X25519KeyPair::generate();
  std::array<std::uint8_t, 128> wire{};
  std::array<std::uint8_t, 16> payload{};
  for (auto _ : state) {
    auto initiator =
        NoiseHandshake::initiator(initiator_key, responder_key.public_key, as_bytes(kLinkPrologue));
    auto responder = NoiseHandshake::responder(responder_key, as_bytes(kLinkPrologue));
    auto n1 = initiator.write_message({}, wire);
    auto r1 = responder.read_message(Bytes(wire).first(*n1), payload);
    auto n2 = responder.write_message({}, wire);
    auto r2 = initiator.read_message(Bytes(wire).first(*n2), payload);
    auto n3 = initiator.write_message({}, wire);
    auto r3 = responder.read_message(Bytes(wire).first(*n3), payload);
    auto keys_i = initiator.split();
    auto keys_r = responder.split();
    benchmark::DoNotOptimize(r1);
    benchmark::DoNotOptimize(r2);
    benchmark::DoNotOptimize(r3);
    benchmark::DoNotOptimize(keys_i);
    benchmark::DoNotOptimize(keys_r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Noise_Handshake);

}  // namespace
}  // namespace nyx::transport

BENCHMARK_MAIN();
