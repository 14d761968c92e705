# rlpipe_library(NAME SOURCES ... DEPS ...): one CMake library per package (DESIGN.md "Layers").
function(rlpipe_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(rlpipe_${name} STATIC ${ARG_SOURCES})
  target_include_directories(rlpipe_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
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
