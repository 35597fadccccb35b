#pragma once
// How AuthorityState's parts (authority_state.cpp, authority_votes.cpp,
// authority_signatures.cpp) word a refusal and name an authority.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include "document/authority_state.hpp"

namespace nyx::document::detail {

inline std::unexpected<AuthorityRefusal> refuse(
    AuthorityRefusalReason reason, std::string message,
    std::optional<std::uint64_t> open_epoch = std::nullopt) {
  return std::unexpected(AuthorityRefusal{reason, std::move(message), open_epoch});
}

}  // namespace nyx::document::detail
