# Third-party libraries, all from Debian's packages (scripts/install-deps).
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium>=1.0.18)
add_library(nyx::sodium ALIAS PkgConfig::SODIUM)

find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(mimalloc REQUIRED)

# Standalone asio is header-only; one interface target carries its settings.
add_library(nyx_asio INTERFACE)
add_library(nyx::asio ALIAS nyx_asio)
target_compile_definitions(nyx_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(nyx_asio INTERFACE Threads::Threads)

if(NYX_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(NYX_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
