#pragma once
// POSIX helpers for the files the node keeps on disk (key files, replay
// stores): writing every byte of a buffer, and making a change to a
// directory entry survive a crash. Errors are kIo, name the path and carry
// errno as their code. Thread-safe (no shared state).

#include <filesystem>
#include <string_view>

#include <sys/types.h>

#include "core/bytes.hpp"
#include "core/error.hpp"

namespace nyx {

// An I/O error about a file: "<kind> <path>: <what>: <errno's text>" (or
// "<path>: ..." when `kind` is empty), category kIo, errno as its code.
// `kind` says what the file is to whoever reads the log ("key file").
std::unexpected<Error> file_error(std::string_view kind, const std::filesystem::path& path,
                                  std::string_view what, int err);

// Writes all of `data` at `offset` in `fd`, going on after short writes and
// EINTR. `path` names the file in the error.
Status write_all_at(int fd, Bytes data, off_t offset, const std::filesystem::path& path);

// Fsyncs the directory that holds `file` (its parent; the working directory
// for a bare name). fsync on a file makes its contents durable, not its
// name: creating, renaming or unlinking `file` is durable only after this.
Status fsync_parent_directory(const std::filesystem::path& file);

// Replaces `path` with `data`, mode `mode`, so that a crash leaves either
// the old file or the new one, never a part: a temporary beside it (a
// random name, created exclusively, never through a symlink), written,
// fsynced, renamed over `path`, then the directory fsynced. The mode is set
// explicitly (the umask can only remove bits). A failed replacement removes
// its temporary.
Status replace_file_durably(const std::filesystem::path& path, Bytes data, mode_t mode);

}  // namespace nyx
