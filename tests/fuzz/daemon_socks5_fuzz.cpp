// Fuzzes the SOCKS5 codec the way the server drives it: greeting, then the
// username/password sub-negotiation when selected, then the request, each
// parser fed what the previous one left. Beyond "no crash", it checks that a
// parser never claims more bytes than it was given and that a message it
// accepted parses the same from exactly its own bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <utility>

#include "daemon/socks5_codec.hpp"

namespace {

using nyx::Bytes;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// Parses the front of `in` and moves past it; nullopt when the driver
// should stop (an error, or more bytes needed).
template <class Parse>
auto step(Parse parse, Bytes& in) -> std::optional<decltype((*parse(in))->value)> {
  auto parsed = parse(in);
  if (!parsed) {
    // Every parse error names a failure reply the server can send.
    const auto reply = nyx::daemon::socks5_reply_of_parse_error(parsed.error());
    check(reply != nyx::daemon::Socks5Reply::kSucceeded);
    return std::nullopt;
  }
  if (!parsed->has_value()) {
    return std::nullopt;
  }
  const std::size_t used = (*parsed)->consumed;
  check(used > 0 && used <= in.size());
  auto again = parse(in.first(used));
  check(again.has_value() && again->has_value() && (*again)->consumed == used);
  in = in.subspan(used);
  return std::move((*parsed)->value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nyx::daemon;
  Bytes in(data, size);
  const auto greeting = step(parse_socks5_greeting, in);
  if (!greeting) {
    return 0;
  }
  const Socks5Method method = select_socks5_method(*greeting);
  if (method == Socks5Method::kNoAcceptable) {
    return 0;
  }
  if (method == Socks5Method::kUserPass && !step(parse_socks5_user_pass, in)) {
    return 0;
  }
  if (const auto destination = step(parse_socks5_request, in)) {
    check(!destination->host.empty() && destination->host.size() <= 255);
  }
  return 0;
}
