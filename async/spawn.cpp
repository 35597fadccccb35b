#include "async/spawn.hpp"

#include <exception>
#include <utility>

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

}  // namespace

void spawn(const asio::any_io_executor& executor, asio::awaitable<void> task, std::string name,
           FailureHandler on_failure) {
  asio::co_spawn(executor, std::move(task),
                 [name = std::move(name),
                  on_failure = std::move(on_failure)](const std::exception_ptr& failure) {
                   if (!failure) {
                     return;
                   }
                   Error error{ErrorCategory::kInternal, 0, name + " failed: " + describe(failure)};
                   log::error("{}", error.message);
                   if (on_failure) {
                     on_failure(error);
                   }
                 });
}

}  // namespace nyx::async
