#pragma once
// The operator's directory tools: `nyxctl directory sign` builds a directory
// from signed descriptor files (cli/descriptor_file.hpp; a descriptor not
// signed by the identity it names is refused) and signs it with one or more
// authority keys;
// `nyxctl directory verify` checks a directory file against authority public
// keys at a given time and says plainly what is wrong (bad signature,
// expired, not yet valid, unknown key, too few signatures).
//
// Time is a parameter (Unix seconds), never read here, so tests pick it.
// Free functions; thread-safe.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/crypto/ed25519.hpp"
#include "core/error.hpp"
#include "document/directory.hpp"

namespace nyx::cli {

struct SignOptions {
  std::vector<std::filesystem::path> authority_keys;  // at least one
  std::vector<std::filesystem::path> descriptors;     // signed (descriptor.bin); at least one
  std::chrono::seconds valid_for{0};                  // > 0
  std::filesystem::path out;
  std::uint64_t now = 0;  // valid_after
};

// How far ahead of this clock a descriptor's `published` may be (proposal
// 0002's default S). There is no lower bound while directories are signed by
// hand: a descriptor may be signed long before an authority collects it.
inline constexpr std::uint64_t kDescriptorClockSkew = 300;

// Reads the signed descriptors, refusing one that is not signed by the
// identity it names, one published more than kDescriptorClockSkew after
// options.now and two with one identity; signs, writes the encoded directory
// to options.out atomically, and returns it.
Result<document::Directory> sign_directory_files(const SignOptions& options);

// The same from directory entries and key pairs in memory (nyxctl testnet,
// which makes each node's keys itself).
Result<document::Directory> sign_directory(
    std::vector<document::NodeDescriptor> nodes,
    const std::vector<const crypto::Ed25519KeyPair*>& authorities, std::chrono::seconds valid_for,
    std::uint64_t now);

// "64 hex digits" → key; kParse naming the text otherwise.
Result<crypto::Ed25519PublicKey> parse_authority_key(std::string_view hex);

// Reads `file` and verifies it as a node would (document::verify_directory) at
// `now`. Errors keep mix's DirectoryErrc code, with a message for people that
// names the authority, the signers or the validity period.
Result<document::Directory> verify_directory_file(const std::filesystem::path& file,
                                                  const document::DirectoryTrust& trust,
                                                  std::uint64_t now);

// A summary for people: validity (UTC) and one line per node.
std::string describe_directory(const document::Directory& directory, std::uint64_t now);

}  // namespace nyx::cli
