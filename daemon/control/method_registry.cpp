#include "daemon/control/method_registry.hpp"

#include <utility>

#include <fmt/format.h>

namespace nyx::control {

Status MethodRegistry::add(std::string name, MethodHandler handler) {
  if (name.empty() || name == "auth" || name == "events.subscribe") {
    return make_error(ErrorCategory::kInvalidArgument,
                      fmt::format("control method name '{}' is empty or reserved", name));
  }
  if (!handler) {
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

RpcResult MethodRegistry::call(std::string_view name, const nlohmann::json& params) const {
  const auto method = methods_.find(name);
  if (method == methods_.end()) {
    return std::unexpected(RpcError{kRpcMethodNotFound, "method not found"});
  }
  // nlohmann's accessors (at(), get<T>()) throw on a missing key or a wrong
  // type; for a handler that means the caller sent bad params.
  try {
    return method->second(params);
  } catch (const nlohmann::json::exception& e) {
    return std::unexpected(
        RpcError{kRpcInvalidParams, fmt::format("invalid params: {}", e.what())});
  }
}

}  // namespace nyx::control
