# Warnings, sanitizers and the per-target helper every layer uses.

# Options that every Nyx target gets (not third-party code).
add_library(nyx_options INTERFACE)
add_library(nyx::options ALIAS nyx_options)
target_compile_options(nyx_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
# Not -Wnull-dereference: GCC 12 reports it from inlined asio and libstdc++
# internals at -O2 and above (false positives the code cannot fix).
if(NYX_WERROR)
  target_compile_options(nyx_options INTERFACE -Werror)
endif()
# asio decides whether to allocate its recycled memory with aligned_alloc
# (freed with free) or operator new from _GLIBCXX_HAVE_ALIGNED_ALLOC, which is
# defined only once a libstdc++ header is in: a file whose first include is
# an asio header chose operator new while every other chose aligned_alloc,
# and the linker kept one allocate and one free of the two (ASan:
# alloc-dealloc-mismatch). Every supported libc has aligned_alloc; say so once.
target_compile_definitions(nyx_options INTERFACE ASIO_HAS_STD_ALIGNED_ALLOC=1)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # asio 1.22 only enables coroutines under clang when told to.
  target_compile_definitions(nyx_options INTERFACE ASIO_HAS_CO_AWAIT=1 ASIO_HAS_STD_COROUTINE=1)
  # libstdc++ 12 offers <expected> only when __cpp_concepts >= 202002L; clang 16
  # implements what it needs (P0848) but still reports 201907L.
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 17)
    target_compile_options(nyx_options INTERFACE -D__cpp_concepts=202002L -Wno-macro-redefined)
  endif()
endif()
target_include_directories(nyx_options INTERFACE ${PROJECT_SOURCE_DIR})

if(NYX_SANITIZE)
  string(REPLACE ";" "," _nyx_san "${NYX_SANITIZE}")
  add_compile_options(-fsanitize=${_nyx_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_nyx_san})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND "undefined" IN_LIST NYX_SANITIZE)
    # UBSan's function check rejects coroutine frames built by clang.
    add_compile_options(-fno-sanitize=function)
  endif()
  set(NYX_USE_MIMALLOC OFF CACHE BOOL "" FORCE)
endif()

if(NYX_BUILD_FUZZ)
  # Every library is instrumented for coverage; only fuzz targets link the driver.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function)
  add_link_options(-fsanitize=address,undefined)
  set(NYX_USE_MIMALLOC OFF CACHE BOOL "" FORCE)
endif()

# Unity builds of the layers' libraries: eight sources a translation unit,
# so the heavy headers (CLI11, asio, nlohmann) compile once per batch, not
# once per file: the CLI library's ASan build takes 330 s of CPU instead of
# 555. The asan, tsan, release and fuzz presets turn it on; dev compiles
# file by file, so a missing #include still shows there. Tests stay file by
# file everywhere: their helpers in anonymous namespaces repeat names, which
# a unity batch would turn into redefinitions.
option(NYX_UNITY "Compile the layers' libraries as unity batches" OFF)

# nyx_layer(NAME SOURCES...): the static library nyx_NAME, aliased nyx::NAME.
function(nyx_layer name)
  add_library(nyx_${name} STATIC ${ARGN})
  add_library(nyx::${name} ALIAS nyx_${name})
  target_link_libraries(nyx_${name} PUBLIC nyx::options)
  if(NYX_UNITY)
    set_target_properties(nyx_${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # In a batch each .cpp is an included file, so GCC reports every class
      # of the file that holds a type from its anonymous namespace as if a
      # header did it: noise, since the file is still one translation unit.
      target_compile_options(nyx_${name} PRIVATE -Wno-subobject-linkage)
    endif()
  endif()
endfunction()
