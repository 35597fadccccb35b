#include "cli/directory_command.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/directory_tool.hpp"
#include "cli/node_options.hpp"
#include "core/config.hpp"

namespace nyx::cli {
namespace {

std::uint64_t unix_now() { return static_cast<std::uint64_t>(std::time(nullptr)); }

int run_sign(const DirectoryCommand& c) {
  auto duration = parse_duration(c.sign_valid_for);
  if (!duration || *duration < std::chrono::seconds(1)) {
    return report_failure(
        {ExitCode::kUsage,
         fmt::format("--valid-for '{}': expected a duration of at least 1s, like 24h",
                     c.sign_valid_for)});
  }
  SignOptions options;
  options.authority_keys.assign(c.sign_keys.begin(), c.sign_keys.end());
  options.descriptors.assign(c.sign_descriptors.begin(), c.sign_descriptors.end());
  options.valid_for = std::chrono::duration_cast<std::chrono::seconds>(*duration);
  options.out = c.sign_out;
  options.now = unix_now();
  auto directory = sign_directory_files(options);
  if (!directory) {
    return report_failure({ExitCode::kFailed, directory.error().message});
  }
  std::printf("wrote %s\n%s", c.sign_out.c_str(),
              describe_directory(*directory, options.now).c_str());
  return 0;
}

int run_verify(const DirectoryCommand& c) {
  document::DirectoryTrust trust;
  trust.threshold = c.verify_threshold;
  for (const auto& hex : c.verify_authorities) {
    auto key = parse_authority_key(hex);
    if (!key) {
      return report_failure({ExitCode::kUsage, key.error().message});
    }
    trust.authorities.push_back(*key);
  }
  if (c.verify_threshold < 1 || c.verify_threshold > trust.authorities.size()) {
    return report_failure(
        {ExitCode::kUsage, "--threshold must be between 1 and the number of authorities"});
  }
  const std::uint64_t now = unix_now();
  auto directory = verify_directory_file(c.verify_file, trust, now);
  if (!directory) {
    return report_failure(
        {ExitCode::kFailed, fmt::format("{}: {}", c.verify_file, directory.error().message)});
  }
  std::printf("%s: good\n%s", c.verify_file.c_str(), describe_directory(*directory, now).c_str());
  return 0;
}

}  // namespace

void add_directory_command(CLI::App& app, DirectoryCommand& c) {
  auto* directory = app.add_subcommand("directory", "sign or verify a directory");
  directory->require_subcommand(1);
  c.sign = directory->add_subcommand("sign", "sign descriptor files into a directory");
  c.sign
      ->add_option("--authority-key", c.sign_keys, "authority key file (nyxctl keygen --authority)")
      ->required()
      ->check(CLI::ExistingFile);
  c.sign
      ->add_option("--descriptors", c.sign_descriptors,
                   "signed descriptor files, one per node (descriptor.bin, written by "
                   "nyxctl keygen --sign-descriptor)")
      ->required()
      ->check(CLI::ExistingFile);
  c.sign->add_option("--valid-for", c.sign_valid_for, "validity from now, e.g. 24h, 90m")
      ->required();
  c.sign->add_option("--out", c.sign_out, "the directory file to write")->required();
  c.verify = directory->add_subcommand("verify", "check a directory's signatures and time");
  c.verify->add_option("--authority", c.verify_authorities, "authority public keys (64 hex digits)")
      ->required();
  c.verify->add_option("--threshold", c.verify_threshold, "how many of them must have signed");
  c.verify->add_option("file", c.verify_file, "the directory file")->required();
}

std::optional<int> run_directory_command(const DirectoryCommand& c) {
  if (c.sign->parsed()) {
    return run_sign(c);
  }
  if (c.verify->parsed()) {
    return run_verify(c);
  }
  return std::nullopt;
}

}  // namespace nyx::cli
