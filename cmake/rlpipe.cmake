# The packages, lowest layer first (docs/architecture.md): a package depends only on packages
# before it in this list.
set(RLPIPE_LAYERS
  core config sim envs vec render nn checkpoint algos storage metrics pipeline platform tune cli)

# rlpipe_library(NAME SOURCES ... DEPS ...): one CMake library per package, enforcing the layers.
# - DEPS may name only lower packages (checked here, at configure time).
# - A package's sources see only its own headers and those of the packages it depends on: each
#   package's folder is staged alone as build/layers/<package>/<package> → src/<package>, and a
#   library puts only its own staged folder on its PUBLIC include path. `#include "x/y.h"` of a
#   package x it does not depend on (directly or through its dependencies) does not compile.
function(rlpipe_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  list(FIND RLPIPE_LAYERS ${name} layer)
  if(layer EQUAL -1)
    message(FATAL_ERROR "package '${name}' is not in RLPIPE_LAYERS (cmake/rlpipe.cmake)")
  endif()
  foreach(dep IN LISTS ARG_DEPS)
    if(dep MATCHES "^rlpipe_(.+)$")
      list(FIND RLPIPE_LAYERS ${CMAKE_MATCH_1} dep_layer)
      if(NOT dep_layer LESS layer)
        message(FATAL_ERROR "rlpipe_${name} may not depend on ${dep}: '${CMAKE_MATCH_1}' is not "
                            "below '${name}' in RLPIPE_LAYERS (cmake/rlpipe.cmake)")
      endif()
    endif()
  endforeach()
  set(stage ${PROJECT_BINARY_DIR}/layers/${name})
  file(MAKE_DIRECTORY ${stage})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${name} ${stage}/${name} SYMBOLIC)
  add_library(rlpipe_${name} STATIC ${ARG_SOURCES})
  target_include_directories(rlpipe_${name} PUBLIC ${stage})
  target_link_libraries(rlpipe_${name} PUBLIC ${ARG_DEPS})
  rlpipe_warnings(rlpipe_${name})
endfunction()

# rlpipe_test(NAME SOURCES ... DEPS ...): a GoogleTest binary registered with CTest.
function(rlpipe_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(${name} PRIVATE RLPIPE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  rlpipe_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

function(rlpipe_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(RLPIPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Targets that include torch/torch.h reuse one precompiled header (it costs ~35 s per TU).
function(rlpipe_use_torch target)
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  # LibTorch's headers trip -Wextra in places; they are system headers to us.
  target_include_directories(${target} SYSTEM PUBLIC ${TORCH_INCLUDE_DIRS})
  if(TARGET rlpipe_torch_pch)
    target_precompile_headers(${target} REUSE_FROM rlpipe_torch_pch)
  endif()
endfunction()
