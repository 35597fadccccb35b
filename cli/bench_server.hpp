#pragma once
// The TCP servers of `nyxctl bench`: the origin (`nyxctl bench serve`, answering the
// origin protocol of cli/bench_protocol.hpp) and the plain-proxy baseline
// (`nyxctl bench proxy`: a one-hop SOCKS5 CONNECT relay without crypto, the
// "simple proxy" users compare Nyx against). Both accept at most
// `max_connections` at once (a connection past the bound is closed at once),
// set TCP_NODELAY, and run a coroutine per connection on `threads` threads
// sharing one io_context (each connection's coroutine is sequential, so it
// needs no lock). The origin streams every response from one fixed buffer: it
// allocates nothing per request. The relay copies in 64 KiB batches: each read
// is written whole before the next.
//
// Each function runs on the calling thread until SIGINT or SIGTERM, printing
// "listening on HOST:PORT" (the bound port, so 0 may be asked for) to `out`
// first.
#include <cstddef>
#include <cstdio>

#include "core/error.hpp"
#include "core/host_port.hpp"

namespace nyx::cli {

enum class BenchServerKind { kOrigin, kProxy };

struct BenchServerOptions {
  BenchServerKind kind = BenchServerKind::kOrigin;
  HostPort listen{"127.0.0.1", 0};
  std::size_t max_connections = 4096;
  std::size_t threads = 1;
};

// kIo when the address cannot be bound; kInvalidArgument for zero bounds.
Status run_bench_server(const BenchServerOptions& options, std::FILE* out);

}  // namespace nyx::cli
