#pragma once
// What every TCP server of the node (SOCKS5 entry, /metrics) does the same
// way: open, bind and listen an acceptor with one clear error, and surface a
// coroutine's escaped exception instead of swallowing it.

#include <exception>
#include <string_view>

#include <asio/ip/tcp.hpp>

#include "core/error.hpp"

namespace nyx::daemon {

// Opens `acceptor` on `endpoint` (SO_REUSEADDR, the system's backlog). On
// failure the acceptor is closed and the error (kIo, errno as code) reads
// "<what>: cannot listen on ADDRESS:PORT: reason".
Status listen_tcp(asio::ip::tcp::acceptor& acceptor, const asio::ip::tcp::endpoint& endpoint,
                  std::string_view what);

// The completion handler for a server's coroutines: their errors are values,
// so only bad_alloc can escape one — a failure to surface in the thread that
// runs the io_context, never to swallow.
void rethrow_escaped(const std::exception_ptr& e);

}  // namespace nyx::daemon
