#!/usr/bin/env bash
# Installs the Debian 12 packages rlpipe needs to build, test and run. Idempotent: installs only
# what is missing. Used by `make demo`, `make test`, CI and docker/Dockerfile.
#   scripts/install-deps.sh            build + run dependencies
#   scripts/install-deps.sh --test     also the test-only tools (python3-torch, shellcheck, ...)
#   scripts/install-deps.sh --runtime  only the shared libraries build/apps/rlpipe loads (the
#                                      container image's final stage; nothing to compile with)
set -euo pipefail

mode=${1:-}
if (($# > 1)) || [[ -n "$mode" && "$mode" != "--test" && "$mode" != "--runtime" ]]; then
  echo "install-deps: unknown argument '$*' (expected nothing, --test or --runtime)" >&2
  exit 2
fi

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libopenblas0-pthread      # LibTorch 1.13 (CPU); OpenBLAS avoids reference BLAS (~3x slower)
  libmujoco-dev libqhull-dev             # MuJoCo 2.2.2; its CMake config needs qhull's headers
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libcurl4-openssl-dev libssl-dev
  zlib1g-dev                             # zlib: reading deflated zip members (SB3 models)
  libgtest-dev libgmock-dev libbenchmark-dev
  # Rendering (src/render; `rlpipe evaluate --render`, session videos, `make demo`, its tests):
  # EGL's headers, Mesa's EGL + llvmpipe for headless EGL (opened at run time), OSMesa as the
  # fallback, lodepng for PNGs, and the ffmpeg/ffprobe programs for MP4s.
  libegl-dev libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6 liblodepng-dev ffmpeg
)
test_pkgs=(python3 python3-numpy python3-torch unzip python3-botocore python3-boto3 awscli
  shellcheck python3-yaml                 # tests/deploy: shell lint, CloudFormation template checks
  protobuf-compiler python3-protobuf      # tests/tensorboard: an independent event-file reader
  chromium                                # tests/report: the HTML report in a real browser
  clang-14 libclang-rt-14-dev)            # tests/fuzz: libFuzzer targets (CTest label fuzz)
# What `readelf -d build/apps/rlpipe` lists as NEEDED (and the CA bundle libcurl verifies S3 with);
# apt pulls their own dependencies. libopenblas0-pthread is named so apt does not satisfy
# LibTorch's libblas.so.3 with the reference BLAS (~3x slower).
runtime_pkgs=(
  ca-certificates
  libtorch1.13 libopenblas0-pthread
  libmujoco2.2.2 libyaml-cpp0.7 zlib1g liblodepng0
  libcurl4 libssl3
)

case "$mode" in
  --runtime) pkgs=("${runtime_pkgs[@]}") ;;
  --test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) pkgs=("${build_pkgs[@]}") ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} Debian packages present"
else
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages and not root; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# s3rver (npm): a local S3-speaking server for the storage tests.
if [[ "$mode" == "--test" ]] && ! command -v s3rver >/dev/null; then
  if ! command -v npm >/dev/null; then
    apt-get install -y -qq --no-install-recommends npm
  fi
  echo "install-deps: installing s3rver (npm)"
  npm install -g --no-audit --no-fund s3rver@3 >/dev/null
fi
