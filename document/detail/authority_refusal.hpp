#pragma once
// How AuthorityState's parts (authority_state.cpp, authority_votes.cpp,
// authority_signatures.cpp) word a refusal and name an authority.

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>

#include "core/crypto/encoding.hpp"
#include "document/authority_state.hpp"

namespace nyx::document::detail {

inline std::unexpected<AuthorityRefusal> refuse(
    AuthorityRefusalReason reason, std::string message,
    std::optional<std::uint64_t> open_epoch = std::nullopt) {
  return std::unexpected(AuthorityRefusal{reason, std::move(message), open_epoch});
}

// The first 8 hex digits of an authority key: how messages name it.
inline std::string short_key(std::span<const std::uint8_t, 32> key) {
  return crypto::to_hex(key).substr(0, 8);
}

}  // namespace nyx::document::detail
