# nyx_header_check: every header of the layers compiles on its own. One
# generated .cpp per header (`#include "layer/x.hpp"` and nothing else),
# compiled as an OBJECT library per layer with that layer's flags and include
# directories (daemon/control's through nyx::daemon, cli/linkemu's through
# nyx::cli, which link them PUBLIC). About 180 translation units, 255 s of
# compiling (two minutes on 2 cores): too slow for every build, so it is
# built on demand and once per CI run by scripts/test (dev preset only).
add_custom_target(nyx_header_check)
foreach(layer core async document stream transport mix daemon cli)
  file(GLOB_RECURSE _headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}
       ${PROJECT_SOURCE_DIR}/${layer}/*.hpp)
  set(_sources)
  foreach(header IN LISTS _headers)
    string(MAKE_C_IDENTIFIER ${header} _name)
    set(_source ${CMAKE_BINARY_DIR}/header_check/${_name}.cpp)
    file(CONFIGURE OUTPUT ${_source} CONTENT "#include \"${header}\"\n")
    list(APPEND _sources ${_source})
  endforeach()
  add_library(nyx_header_check_${layer} OBJECT EXCLUDE_FROM_ALL ${_sources})
  target_link_libraries(nyx_header_check_${layer} PRIVATE nyx::${layer})
  add_dependencies(nyx_header_check nyx_header_check_${layer})
endforeach()
