#pragma once
// The plaintext of RFC 8439's test vectors (sections 2.4.2 and 2.8.2), the
// one copy the ChaCha20 and AEAD tests use.

#include <string_view>

namespace nyx::test {

inline constexpr std::string_view kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";

}  // namespace nyx::test
