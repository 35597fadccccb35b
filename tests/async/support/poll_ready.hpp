#pragma once
// poll_ready(io): runs every handler that is ready now, without waiting.
// An io_context stops when it runs out of work, and a stopped one runs
// nothing until restarted, so each turn of a test restarts it first.

#include <cstddef>

#include <asio/io_context.hpp>

namespace nyx::async::testing {

inline std::size_t poll_ready(asio::io_context& io) {
  io.restart();
  return io.poll();
}

}  // namespace nyx::async::testing
