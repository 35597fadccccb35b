#include "async/spawn.hpp"

#include <exception>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/co_spawn.hpp>

#include "core/log.hpp"

namespace nyx::async {
namespace {

std::string describe(const std::exception_ptr& failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// The completion handler both overloads give co_spawn.
auto reporting_failure(std::string name, FailureHandler on_failure) {
  return [name = std::move(name),
          on_failure = std::move(on_failure)](const std::exception_ptr& failure) {
    if (!failure) {
      return;
    }
    Error error{ErrorCategory::kInternal, 0, name + " failed: " + describe(failure)};
    log::error("{}", error.message);
    if (on_failure) {
      on_failure(error);
    }
  };
}

}  // namespace

void spawn(const asio::any_io_executor& executor, asio::awaitable<void> task, std::string name,
           FailureHandler on_failure) {
  asio::co_spawn(executor, std::move(task),
                 reporting_failure(std::move(name), std::move(on_failure)));
}

void spawn(const asio::any_io_executor& executor, asio::awaitable<void> task, std::string name,
           asio::cancellation_slot cancel, FailureHandler on_failure) {
  asio::co_spawn(executor, std::move(task),
                 asio::bind_cancellation_slot(
                     cancel, reporting_failure(std::move(name), std::move(on_failure))));
}

}  // namespace nyx::async
