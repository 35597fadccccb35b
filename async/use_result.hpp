#pragma once
// use_result: the one await token of Nyx. `co_await op(args, use_result)`
// gives a tuple (error_code first) instead of throwing, so a failed socket
// operation is a value the caller checks, as STYLE.md asks of every path fed
// by the network.

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace nyx::async {

inline constexpr auto use_result = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace nyx::async
