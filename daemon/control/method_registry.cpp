#include "daemon/control/method_registry.hpp"

#include <optional>
#include <utility>

#include <fmt/format.h>

namespace nyx::control {

Status MethodRegistry::add(std::string name, MethodHandler handler) {
  const bool empty = !handler;
  return insert(std::move(name), std::move(handler), empty);
}

Status MethodRegistry::add_async(std::string name, AsyncMethodHandler handler) {
  const bool empty = !handler;
  return insert(std::move(name), std::move(handler), empty);
}

Status MethodRegistry::insert(std::string name, Handler handler, bool empty) {
  if (name.empty() || name == "auth" || name == "events.subscribe") {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("control method name '{}' is empty or reserved", name));
  }
  if (empty) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("control method '{}' has no handler", name));
  }
  auto [_, inserted] = methods_.try_emplace(name, std::move(handler));
  if (!inserted) {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("control method '{}' is registered twice", name));
  }
  return {};
}

bool MethodRegistry::contains(std::string_view name) const { return methods_.contains(name); }

asio::awaitable<RpcResult> MethodRegistry::call(std::string_view name,
                                                nlohmann::json params) const {
  const auto method = methods_.find(name);
  if (method == methods_.end()) {
    co_return std::unexpected(RpcError{kRpcMethodNotFound, "method not found"});
  }
  // nlohmann's accessors (at(), get<T>()) throw on a missing key or a wrong
  // type; for a handler that means the caller sent bad params.
  std::optional<std::string> bad_params;
  try {
    if (const auto* sync = std::get_if<MethodHandler>(&method->second)) {
      co_return (*sync)(params);
    }
    co_return co_await std::get<AsyncMethodHandler>(method->second)(std::move(params));
  } catch (const nlohmann::json::exception& e) {
    bad_params = e.what();
  }
  co_return std::unexpected(
      RpcError{kRpcInvalidParams, fmt::format("invalid params: {}", *bad_params)});
}

}  // namespace nyx::control
