#pragma once
// The control server's methods: a name mapped to a handler that takes the
// call's params and returns a result or a JSON-RPC error. The node registers
// its methods (node.info, node.stats, ...) before the server starts; the
// server owns the registry afterwards. Handlers run on the server's executor
// and must not block it: one that needs another thread's answer (the cell
// shard's circuits) is a coroutine (add_async) that awaits it, so the
// control thread serves other clients meanwhile. Not thread-safe: fill it,
// then hand it over.

#include <expected>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "daemon/control/json_rpc.hpp"

namespace nyx::control {

using RpcResult = std::expected<nlohmann::json, RpcError>;
// params is an object, an array, or null when the call had none.
using MethodHandler = std::function<RpcResult(const nlohmann::json& params)>;
using AsyncMethodHandler = std::function<asio::awaitable<RpcResult>(nlohmann::json params)>;

class MethodRegistry {
 public:
  // kInvalidArgument when the name is taken, empty, or reserved for the
  // server itself ("auth", "events.subscribe").
  Status add(std::string name, MethodHandler handler);
  Status add_async(std::string name, AsyncMethodHandler handler);

  bool contains(std::string_view name) const;

  // kRpcMethodNotFound for an unknown name. A handler that reads params with
  // nlohmann's throwing accessors and meets the wrong type answers
  // kRpcInvalidParams instead of taking the server down.
  asio::awaitable<RpcResult> call(std::string_view name, nlohmann::json params) const;

 private:
  using Handler = std::variant<MethodHandler, AsyncMethodHandler>;
  Status insert(std::string name, Handler handler, bool empty);

  std::map<std::string, Handler, std::less<>> methods_;
};

}  // namespace nyx::control
