#!/usr/bin/env bash
# Runs s3rver (npm s3rver@3) in the foreground for the storage tests, or by hand:
#   tests/s3/start_s3rver.sh DATA_DIR PORT [BUCKET...]
# Binds to 127.0.0.1 only; credentials are s3rver's fixed S3RVER / S3RVER (it checks SigV4).
# Exits 77 when s3rver is not installed (scripts/install-deps.sh --test installs it).
set -euo pipefail
if (($# < 2)); then
  echo "usage: $0 DATA_DIR PORT [BUCKET...]" >&2
  exit 2
fi
data_dir=$1
port=$2
shift 2
if ! command -v s3rver >/dev/null; then
  echo "start_s3rver: s3rver not found (npm install -g s3rver@3)" >&2
  exit 77
fi
mkdir -p "$data_dir"
# s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy
# provider: without this, every paginated listing fails with HTTP 500.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--openssl-legacy-provider"
args=(--directory "$data_dir" --address 127.0.0.1 --port "$port" --silent --no-vhost-buckets)
for bucket in "$@"; do
  args+=(--configure-bucket "$bucket")
done
exec s3rver "${args[@]}"
