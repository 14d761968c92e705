#!/bin/sh
# The build enforces the layers (cmake/rlpipe.cmake): in a scratch project of two packages,
# `core` below `config`,
#   1. config including a core header builds;
#   2. core including a config header does not compile (its include path has no config/);
#   3. core declaring a dependency on config fails at configure time, naming both.
# Usage: check_layers.sh CMAKE SOURCE_DIR
set -u
cmake=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_layers: $*"; exit 1; }

project() {  # $1: extra #include line for core/low.cc, $2: DEPS of core
  rm -rf "$work/p"
  mkdir -p "$work/p/src/core" "$work/p/src/config"
  cat > "$work/p/CMakeLists.txt" <<EOT
cmake_minimum_required(VERSION 3.20)
project(layers CXX)
include($src/cmake/rlpipe.cmake)
rlpipe_library(core SOURCES src/core/low.cc $2)
rlpipe_library(config SOURCES src/config/high.cc DEPS rlpipe_core)
EOT
  printf '#pragma once\ninline int Low() { return 1; }\n' > "$work/p/src/core/low.h"
  printf '%s\n#include "core/low.h"\nint LowUser() { return Low(); }\n' "$1" > "$work/p/src/core/low.cc"
  printf '#pragma once\ninline int High() { return 2; }\n' > "$work/p/src/config/high.h"
  printf '#include "config/high.h"\n#include "core/low.h"\nint HighUser() { return High() + Low(); }\n' \
    > "$work/p/src/config/high.cc"
}

project "" ""
"$cmake" -S "$work/p" -B "$work/p/build" > "$work/log" 2>&1 || fail "downward project did not configure: $(cat "$work/log")"
"$cmake" --build "$work/p/build" > "$work/log" 2>&1 || fail "downward include did not build: $(cat "$work/log")"

project '#include "config/high.h"' ""
"$cmake" -S "$work/p" -B "$work/p/build" > "$work/log" 2>&1 || fail "upward-include project did not configure: $(cat "$work/log")"
if "$cmake" --build "$work/p/build" > "$work/log" 2>&1; then fail "an upward include (core -> config) compiled"; fi
grep -q "config/high.h" "$work/log" || fail "the upward include failed for another reason: $(cat "$work/log")"

project "" "DEPS rlpipe_config"
if "$cmake" -S "$work/p" -B "$work/p/build" > "$work/log" 2>&1; then fail "an upward DEPS (core -> config) configured"; fi
grep -q "rlpipe_core may not depend on rlpipe_config" "$work/log" || fail "unexpected configure error: $(cat "$work/log")"
echo "check_layers: downward include builds; upward include and upward DEPS are refused"
