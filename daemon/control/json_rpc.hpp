#pragma once
// JSON-RPC 2.0 messages of the control protocol (docs/control.md), sans I/O.
//
// One message is one line of JSON: encoders return the text with its
// terminating '\n', parsers take a line without it. Parsing never throws:
// malformed input becomes the JSON-RPC error the peer should get. Batches
// (JSON arrays) are not part of the control protocol and are invalid
// requests. Free functions, safe from any thread.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace nyx::control {

// JSON-RPC 2.0 section 5.1.
inline constexpr int kRpcParseError = -32700;
inline constexpr int kRpcInvalidRequest = -32600;
inline constexpr int kRpcMethodNotFound = -32601;
inline constexpr int kRpcInvalidParams = -32602;
inline constexpr int kRpcInternalError = -32603;
// Server errors of the control protocol (the range -32000 to -32099).
inline constexpr int kRpcAuthRequired = -32001;
inline constexpr int kRpcAuthFailed = -32002;
inline constexpr int kRpcAlreadySubscribed = -32003;

struct RpcError {
  int code = kRpcInternalError;
  std::string message;
};

struct RpcRequest {
  std::string method;
  nlohmann::json params;  // an object, an array, or null when absent
  nlohmann::json id;      // a number, a string or null (always null for a notification)
  bool is_notification = false;
};

// A request that cannot be served, and the id to answer it with (null when
// the id itself could not be read, as JSON-RPC prescribes).
struct RpcRequestFailure {
  RpcError error;
  nlohmann::json id;
};

std::expected<RpcRequest, RpcRequestFailure> parse_rpc_request(std::string_view line);

// What a client reads: the response to one of its calls, or a notification
// the server pushed (events.subscribe).
struct RpcServerMessage {
  bool is_notification = false;
  std::string method;                               // notifications
  nlohmann::json params;                            // notifications
  nlohmann::json id;                                // responses
  std::expected<nlohmann::json, RpcError> outcome;  // responses: result or error
};

// kParse for text that is not a JSON-RPC 2.0 response or notification.
Result<RpcServerMessage> parse_rpc_server_message(std::string_view line);

std::string encode_rpc_request(std::int64_t id, std::string_view method,
                               const nlohmann::json& params);
std::string encode_rpc_result(const nlohmann::json& id, const nlohmann::json& result);
std::string encode_rpc_error(const nlohmann::json& id, const RpcError& error);
std::string encode_rpc_notification(std::string_view method, const nlohmann::json& params);

}  // namespace nyx::control
