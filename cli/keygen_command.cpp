#include "cli/keygen_command.hpp"

#include <cstdio>
#include <filesystem>

#include "cli/descriptor_file.hpp"
#include "cli/node_keys.hpp"
#include "cli/node_options.hpp"
#include "core/crypto/encoding.hpp"

namespace nyx::cli {
namespace {

int failed(const std::string& message) { return report_failure({ExitCode::kFailed, message}); }

int run_authority(const std::string& out) {
  if (auto status = make_private_dir(out); !status) {
    return failed(status.error().message);
  }
  const auto file = std::filesystem::path(out) / kAuthorityKeyName;
  auto key = generate_authority_key(file);
  if (!key) {
    return failed(key.error().message);
  }
  std::printf("authority key  %s (0600)\npublic key     %s\n", file.c_str(),
              crypto::to_hex(*key).c_str());
  std::printf(
      "\nPut the public key in each node's [directory] authorities; sign with\n"
      "  nyxctl directory sign --authority-key %s --descriptors FILE... "
      "--valid-for 24h --out directory.bin\n",
      file.c_str());
  return 0;
}

int run_node(const std::string& out) {
  auto keys = generate_node_keys(out);
  if (!keys) {
    return failed(keys.error().message);
  }
  // A descriptor with the keys filled in: the operator adds the addresses.
  document::NodeDescriptor descriptor;
  descriptor.identity_key = keys->identity;
  descriptor.link_key = keys->link;
  descriptor.onion_key = keys->onion;
  descriptor.onion_key_epoch = keys->onion_epoch;
  const auto descriptor_file = std::filesystem::path(out) / "descriptor.toml";
  if (auto status = write_descriptor_file(descriptor_file, descriptor); !status) {
    return failed(status.error().message);
  }
  std::printf(
      "node id       %s\nidentity key  %s  (Ed25519)\nlink key      %s  (X25519)\n"
      "onion key     %s  (X25519, epoch %llu)\n",
      crypto::to_hex(keys->node_id()).c_str(), crypto::to_hex(keys->identity).c_str(),
      crypto::to_hex(keys->link).c_str(), crypto::to_hex(keys->onion).c_str(),
      static_cast<unsigned long long>(keys->onion_epoch));
  std::printf(
      "\nSecret keys are in %s (0600, directory 0700): use it as the node's data_dir.\n"
      "Fill in the addresses and roles in %s, then sign a directory with it.\n",
      out.c_str(), descriptor_file.c_str());
  return 0;
}

}  // namespace

void add_keygen_command(CLI::App& app, KeygenCommand& command) {
  command.keygen = app.add_subcommand("keygen", "generate a node's keys (or an authority key)");
  command.keygen->add_option("--out", command.out, "directory to write the keys to (made 0700)")
      ->required();
  command.keygen->add_flag("--authority", command.authority,
                           "write a directory authority's signing key (authority.key) instead");
}

std::optional<int> run_keygen_command(const KeygenCommand& command) {
  if (!command.keygen->parsed()) {
    return std::nullopt;
  }
  return command.authority ? run_authority(command.out) : run_node(command.out);
}

}  // namespace nyx::cli
