#pragma once
// The control cookie: 32 random bytes in a file only the node's user can
// read (mode 0600; 0640 when the node grants its group access, as Tor's
// CookieAuthFileGroupReadable), as Tor's cookie authentication. Whoever can read the file
// may control the node; the first call on a control connection presents it
// as hex. Held in locked, zeroed-on-free memory; compared in constant time.
// Move-only, one owner; const methods are safe from any thread.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/crypto/secret.hpp"
#include "core/error.hpp"

namespace nyx::control {

class ControlCookie {
 public:
  static constexpr std::size_t kSize = 32;

  // A fresh random cookie, written to `file` (0600, or 0640 when
  // group_readable) atomically: a reader sees the old cookie or the new one,
  // never half of one.
  static Result<ControlCookie> create(const std::filesystem::path& file,
                                      bool group_readable = false);
  // Reads a cookie file; refuses one of the wrong size, or one anyone but
  // its owner may write or anyone outside its group may read.
  static Result<ControlCookie> load(const std::filesystem::path& file);

  // Whether `hex` (either case) encodes this cookie; constant time in its
  // contents.
  bool matches_hex(std::string_view hex) const;
  // What a client sends in its auth call.
  std::string hex() const;

 private:
  explicit ControlCookie(crypto::SecretBytes<kSize> secret) : secret_(std::move(secret)) {}

  crypto::SecretBytes<kSize> secret_;
};

}  // namespace nyx::control
