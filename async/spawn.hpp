#pragma once
// spawn(executor, task, name, on_failure): starts a coroutine that nobody
// awaits, without losing its failure. An exception that escapes the task is
// logged as "<name> failed: <what>" and, when given, handed to on_failure as
// an Error (kInternal), on the task's executor. Use it instead of
// co_spawn(..., asio::detached) or a completion handler that ignores its
// exception_ptr.
//
// The overload with a cancellation slot binds it to the task, so that
// emitting its signal cancels the operation the task is waiting on (the
// owner's stop()).
//
// A free function; thread-safe as far as the executor is.

#include <functional>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include "core/error.hpp"

namespace nyx::async {

using FailureHandler = std::function<void(const Error&)>;

void spawn(const asio::any_io_executor& executor, asio::awaitable<void> task, std::string name,
           FailureHandler on_failure = {});
void spawn(const asio::any_io_executor& executor, asio::awaitable<void> task, std::string name,
           asio::cancellation_slot cancel, FailureHandler on_failure = {});

}  // namespace nyx::async
