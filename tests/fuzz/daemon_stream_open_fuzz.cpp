// Fuzzes the stream open parser as the exit drives it: the request from the
// front of the stream's bytes, then the status byte. Beyond "no crash", it
// checks that the parser never claims more bytes than it was given, that
// every proper prefix of an accepted request asks for more bytes, and that
// an accepted request encodes back to exactly the bytes it was parsed from.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "daemon/stream_open.hpp"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace nyx::daemon;
  const nyx::Bytes in(data, size);
  auto parsed = parse_stream_open(in);
  if (parsed && parsed->has_value()) {
    const std::size_t used = (*parsed)->consumed;
    check(used > 0 && used <= size && used <= kStreamOpenMaxRequest);
    for (std::size_t n = 0; n < used; ++n) {
      auto partial = parse_stream_open(in.first(n));
      check(partial.has_value() && !partial->has_value());
    }
    // Re-encoding gives the same bytes: names as sent, addresses through
    // their text form.
    auto encoded = encode_stream_open((*parsed)->value);
    check(encoded.has_value() && *encoded == std::vector<std::uint8_t>(data, data + used));
  }
  if (size > 0) {
    auto status = parse_stream_open_status(data[0]);
    if (status && *status != StreamOpenStatus::kSuccess) {
      check(stream_open_status_for(stream_open_error(*status)) == *status);
    }
  }
  return 0;
}
