#pragma once
// DataDir: the node's private directory — its keys, control cookie and
// control socket live here.
//
// open() creates the directory mode 0700 when it does not exist and refuses
// one that group or others may access, that another user owns, or that is not
// a directory: whoever can read it can impersonate or control the node. With
// group access (control.group_access) it is made 0750 and 0750 is accepted:
// the group may reach the control socket, while the key files in it stay
// 0600. The
// file names inside are fixed here so the node, its tests and the CLI agree.
// A value type; its methods touch nothing and are safe from any thread.

#include <cstdint>
#include <filesystem>

#include "core/error.hpp"

namespace nyx::daemon {

class DataDir {
 public:
  // kPermission for a group/world-accessible directory or another owner,
  // kConfig for a path that is not a directory, kIo when it cannot be made.
  static Result<DataDir> open(const std::filesystem::path& path, bool group_access = false);
  // The checks of open() on an existing directory, without making anything
  // (nyxd --check-config); kIo when it cannot be looked at.
  static Status check(const std::filesystem::path& absolute, bool group_access = false);

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path identity_key() const { return path_ / "identity.key"; }
  std::filesystem::path link_key() const { return path_ / "link.key"; }
  std::filesystem::path onion_key(std::uint64_t epoch) const;
  std::filesystem::path control_cookie() const { return path_ / "control.cookie"; }
  std::filesystem::path control_socket() const { return path_ / "control.sock"; }

 private:
  explicit DataDir(std::filesystem::path path) : path_(std::move(path)) {}

  std::filesystem::path path_;
};

}  // namespace nyx::daemon
