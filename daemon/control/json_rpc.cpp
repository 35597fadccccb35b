#include "daemon/control/json_rpc.hpp"

#include <utility>

namespace nyx::control {
namespace {

using nlohmann::json;

// Invalid UTF-8 in a string (a handler echoing bytes it was given) must not
// make dump() throw: replace it instead.
std::string to_line(const json& message) {
  std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
  text.push_back('\n');
  return text;
}

json parse_json(std::string_view text) {
  // allow_exceptions = false: a parse failure is the value `discarded`.
  return json::parse(text.begin(), text.end(), nullptr, false);
}

bool is_valid_id(const json& id) { return id.is_number() || id.is_string() || id.is_null(); }

bool has_version(const json& message) {
  const auto version = message.find("jsonrpc");
  return version != message.end() && version->is_string() && *version == "2.0";
}

}  // namespace

// GCC 12 at -O2 reports the message string of a returned
// std::unexpected<RpcRequestFailure> as maybe-uninitialized (a false positive
// of its std::expected flow analysis, GCC PR 107138); silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
std::expected<RpcRequest, RpcRequestFailure> parse_rpc_request(std::string_view line) {
  json message = parse_json(line);
  if (message.is_discarded()) {
    return std::unexpected(RpcRequestFailure{{kRpcParseError, "parse error"}, nullptr});
  }
  if (!message.is_object()) {
    return std::unexpected(
        RpcRequestFailure{{kRpcInvalidRequest, "a request is a JSON object"}, nullptr});
  }
  RpcRequest request;
  const auto id = message.find("id");
  if (id == message.end()) {
    request.is_notification = true;
  } else if (is_valid_id(*id)) {
    request.id = *id;
  } else {
    return std::unexpected(
        RpcRequestFailure{{kRpcInvalidRequest, "id must be a number, a string or null"}, nullptr});
  }
  auto invalid = [&](std::string why) {
    return std::unexpected(RpcRequestFailure{{kRpcInvalidRequest, std::move(why)}, request.id});
  };
  if (!has_version(message)) {
    return invalid("jsonrpc must be \"2.0\"");
  }
  const auto method = message.find("method");
  if (method == message.end() || !method->is_string()) {
    return invalid("method must be a string");
  }
  request.method = method->get<std::string>();
  const auto params = message.find("params");
  if (params != message.end()) {
    if (!params->is_object() && !params->is_array()) {
      return invalid("params must be an object or an array");
    }
    request.params = std::move(*params);
  }
  return request;
}
#pragma GCC diagnostic pop

Result<RpcServerMessage> parse_rpc_server_message(std::string_view line) {
  json message = parse_json(line);
  if (message.is_discarded() || !message.is_object() || !has_version(message)) {
    return make_error(ErrorCategory::kParse, "control: reply is not a JSON-RPC 2.0 object");
  }
  RpcServerMessage out;
  if (const auto method = message.find("method"); method != message.end()) {
    if (!method->is_string()) {
      return make_error(ErrorCategory::kParse, "control: notification method is not a string");
    }
    out.is_notification = true;
    out.method = method->get<std::string>();
    if (const auto params = message.find("params"); params != message.end()) {
      out.params = std::move(*params);
    }
    return out;
  }
  const auto id = message.find("id");
  if (id == message.end()) {
    return make_error(ErrorCategory::kParse, "control: response without an id");
  }
  out.id = *id;
  if (const auto result = message.find("result"); result != message.end()) {
    out.outcome = std::move(*result);
    return out;
  }
  const auto error = message.find("error");
  if (error == message.end() || !error->is_object()) {
    return make_error(ErrorCategory::kParse, "control: response has neither result nor error");
  }
  const auto code = error->find("code");
  const auto text = error->find("message");
  if (code == error->end() || !code->is_number_integer() || text == error->end() ||
      !text->is_string()) {
    return make_error(ErrorCategory::kParse, "control: error without an integer code and message");
  }
  out.outcome = std::unexpected(RpcError{code->get<int>(), text->get<std::string>()});
  return out;
}

std::string encode_rpc_request(std::int64_t id, std::string_view method, const json& params) {
  json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) {
    message["params"] = params;
  }
  return to_line(message);
}

std::string encode_rpc_result(const json& id, const json& result) {
  return to_line({{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

std::string encode_rpc_error(const json& id, const RpcError& error) {
  return to_line({{"jsonrpc", "2.0"},
                  {"id", id},
                  {"error", {{"code", error.code}, {"message", error.message}}}});
}

std::string encode_rpc_notification(std::string_view method, const json& params) {
  return to_line({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
}

}  // namespace nyx::control
