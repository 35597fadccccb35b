#pragma once
// An HTTP GET for integration tests (a node's metrics endpoint).

#include <string>

namespace nyx::test {

// GETs `path` from `endpoint` (HOST:PORT, an IP literal) and returns the
// whole reply, the server closing after it; on a bad endpoint or a failed
// connect, a text saying so (which no test takes for a reply).
std::string http_get(const std::string& endpoint, const std::string& path);

}  // namespace nyx::test
