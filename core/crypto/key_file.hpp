#pragma once
// Key files: a secret stored as its raw bytes in a file only its owner can
// read.
//
// write_key_file() writes a temporary file created with O_CREAT|O_EXCL|
// O_NOFOLLOW and mode 0600 beside the target, fsyncs it, renames it over the
// target and fsyncs the directory, so a crash leaves the old key or the new
// one, never half a key. read_key_file() refuses a path that is a symlink or
// not a regular file, a file that group or others may read or write, and a
// file whose size is not the key's size. Every Error names the path. A file
// its group may read (0640) is the one exception, asked for by name: the
// control cookie when the node grants its group access.
// Thread-safe (no shared state); not safe against another process changing
// the same file at the same time.

#include <cstddef>
#include <filesystem>

#include "core/bytes.hpp"
#include "core/crypto/secret.hpp"
#include "core/error.hpp"

namespace nyx::crypto {

// Who besides the owner may read the file: nobody (mode 0600), or also its
// group (0640). Nobody else may ever write it.
enum class KeyFileAccess { kOwnerOnly, kGroupReadable };

Status write_key_file(const std::filesystem::path& path, Bytes secret,
                      KeyFileAccess access = KeyFileAccess::kOwnerOnly);

// Reads exactly out.size() bytes; out is zeroed on failure.
Status read_key_file(const std::filesystem::path& path, MutableBytes out,
                     KeyFileAccess access = KeyFileAccess::kOwnerOnly);

template <std::size_t N>
Result<SecretBytes<N>> read_secret_key_file(const std::filesystem::path& path,
                                            KeyFileAccess access = KeyFileAccess::kOwnerOnly) {
  SecretBytes<N> secret;
  if (auto status = read_key_file(path, secret.mutable_span(), access); !status) {
    return std::unexpected(std::move(status.error()));
  }
  return secret;
}

}  // namespace nyx::crypto
