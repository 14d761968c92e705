#!/usr/bin/env bash
# `cmake --install` gives a self-contained layout: the installed rlpipe, run from an unrelated
# folder with the build and source trees out of reach by path, finds its price table
# (share/rlpipe/pricing.yaml) beside itself.
#   check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/rlpipe"
test -f "$work/prefix/share/rlpipe/pricing.yaml"
test -f "$work/prefix/share/rlpipe/configs/examples/quickstart.yaml"
cp "$src/tests/sagemaker/pipelines/warm_pool.yaml" "$src/tests/sagemaker/pipelines/train.yaml" "$work/"
# Move the installed tree: it must not depend on the prefix it was installed to either.
mv "$work/prefix" "$work/moved"
cd "$work"
out=$("$work/moved/bin/rlpipe" cost --config warm_pool.yaml)
grep -q "ESTIMATED SageMaker cost of pipeline 'warm'" <<<"$out" || { echo "$out"; exit 1; }
echo "ok: installed rlpipe found $work/moved/share/rlpipe/pricing.yaml"
