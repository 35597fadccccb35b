#include "cli/keygen_command.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include <CLI/CLI.hpp>

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
      "Fill in the addresses and roles in %s, then sign it with\n"
      "  nyxctl keygen --out %s --sign-descriptor %s\n",
      out.c_str(), descriptor_file.c_str(), out.c_str(), descriptor_file.c_str());
  return 0;
}

// Signs the descriptor TOML `source_file` with DIR's identity key into
// DIR/descriptor.bin, the file an authority's `nyxctl directory sign
// --descriptors` takes.
int run_sign_descriptor(const std::string& out, const std::string& source_file) {
  const auto dir = std::filesystem::path(out);
  auto source = read_descriptor_file(source_file);
  if (!source) {
    return failed(source.error().message);
  }
  const auto now = static_cast<std::uint64_t>(std::time(nullptr));
  auto descriptor = sign_descriptor(*source, dir, now);
  if (!descriptor) {
    return failed(descriptor.error().message);
  }
  const auto signed_file = dir / kSignedDescriptorName;
  if (auto status = write_signed_descriptor_file(signed_file, *descriptor); !status) {
    return failed(status.error().message);
  }
  std::printf(
      "wrote %s\nnode id          %s\nepoch            %llu (onion keys of epochs %llu and "
      "%llu)\npublished        %llu\n"
      "\nGive it to the directory authority:\n"
      "  nyxctl directory sign --descriptors %s ...\n",
      signed_file.c_str(), crypto::to_hex(descriptor->node_id()).c_str(),
      static_cast<unsigned long long>(descriptor->epoch),
      static_cast<unsigned long long>(descriptor->epoch),
      static_cast<unsigned long long>(descriptor->epoch + 1),
      static_cast<unsigned long long>(descriptor->published), signed_file.c_str());
  return 0;
}

}  // namespace

void add_keygen_command(CLI::App& app, KeygenCommand& command) {
  command.keygen = app.add_subcommand("keygen", "generate a node's keys (or an authority key)");
  command.keygen->add_option("--out", command.out, "directory to write the keys to (made 0700)")
      ->required();
  auto* authority =
      command.keygen->add_flag("--authority", command.authority,
                               "write a directory authority's signing key (authority.key) instead");
  command.keygen
      ->add_option("--sign-descriptor", command.sign_descriptor,
                   "sign this descriptor TOML with the identity key in DIR into DIR/descriptor.bin")
      ->check(CLI::ExistingFile)
      ->excludes(authority);
}

std::optional<int> run_keygen_command(const KeygenCommand& command) {
  if (!command.keygen->parsed()) {
    return std::nullopt;
  }
  if (!command.sign_descriptor.empty()) {
    return run_sign_descriptor(command.out, command.sign_descriptor);
  }
  return command.authority ? run_authority(command.out) : run_node(command.out);
}

}  // namespace nyx::cli
