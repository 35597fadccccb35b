# nyx::version — what `nyxctl --version`, `nyxd --version`, node.info and
# nyx_build_info report: the project version, the git commit and the build
# type, fixed when CMake configures (a commit made later shows after the next
# configure; outside a git checkout, as from a tarball, the commit is
# "unknown"). One generated header, so the three agree.
find_package(Git QUIET)
set(NYX_GIT_COMMIT "unknown")
if(GIT_FOUND)
  execute_process(
    COMMAND ${GIT_EXECUTABLE} rev-parse --short HEAD
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    OUTPUT_VARIABLE _nyx_commit
    OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET
    RESULT_VARIABLE _nyx_git_result)
  if(_nyx_git_result EQUAL 0 AND NOT _nyx_commit STREQUAL "")
    set(NYX_GIT_COMMIT "${_nyx_commit}")
  endif()
endif()
set(NYX_BUILD_TYPE "${CMAKE_BUILD_TYPE}")
if(NYX_BUILD_TYPE STREQUAL "")
  set(NYX_BUILD_TYPE "unspecified")
endif()

configure_file(${CMAKE_CURRENT_LIST_DIR}/nyx_version.hpp.in
               ${PROJECT_BINARY_DIR}/generated/nyx_version.hpp @ONLY)
add_library(nyx_version INTERFACE)
add_library(nyx::version ALIAS nyx_version)
target_include_directories(nyx_version INTERFACE ${PROJECT_BINARY_DIR}/generated)
