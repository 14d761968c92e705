#!/usr/bin/env bash
# The fuzz smoke run of CTest (label `fuzz`, see tests/CMakeLists.txt and docs/fuzzing.md).
#   smoke.sh build BUILD_DIR            configure + build tests/fuzz with clang into BUILD_DIR
#   smoke.sh run BUILD_DIR TARGET SECS  run TARGET_fuzzer over corpus/TARGET for SECS seconds;
#                                       fails on any crash, leak, sanitizer report or hang
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-}
build=${2:-}
if [[ -z "$build" ]]; then
  echo "usage: smoke.sh build BUILD_DIR | smoke.sh run BUILD_DIR TARGET SECONDS" >&2
  exit 2
fi

case "$mode" in
  build)
    clang=$(command -v clang++-14 || command -v clang++ || true)
    if [[ -z "$clang" ]]; then
      echo "smoke.sh: clang++ not found (scripts/install-deps.sh --test installs clang-14)" >&2
      exit 1
    fi
    generator=()
    if command -v ninja >/dev/null; then generator=(-G Ninja); fi
    if [[ ! -f "$build/CMakeCache.txt" ]]; then
      cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$clang" >/dev/null
    fi
    cmake --build "$build" -j "$(nproc)"
    ;;
  run)
    target=${3:?target}
    seconds=${4:?seconds}
    fuzzer="$build/${target}_fuzzer"
    # New inputs go to a scratch directory (the first one), never into the committed seeds.
    scratch="$build/smoke/$target"
    artifacts="$build/artifacts/$target"
    rm -rf "$scratch"
    mkdir -p "$scratch" "$artifacts"
    dict=()
    if [[ -f "$here/dict/$target.dict" ]]; then dict=(-dict="$here/dict/$target.dict"); fi
    cd "$build"
    exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" \
      "$scratch" "$here/corpus/$target"
    ;;
  *)
    echo "smoke.sh: unknown mode '$mode' (expected build or run)" >&2
    exit 2
    ;;
esac
