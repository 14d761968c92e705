#!/usr/bin/env bash
# Builds the rlpipe image (docker/Dockerfile) and pushes it to the stack's ECR repository. See
# docs/aws-deploy.md.
set -euo pipefail

readonly prog=push-image
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  cat <<EOF
usage: aws/push-image.sh --region REGION [--repository NAME] [--tag TAG]

Builds docker/Dockerfile for linux/amd64 (SageMaker's training instances), logs Docker in to ECR
and pushes the image as REPOSITORY_URI:TAG. Prints the URI for aws.sagemaker.container_image_uri.

  --region REGION       AWS region of the repository (us-east-1, eu-west-1, ...)
  --repository NAME     ECR repository name (default: rlpipe, as in the CloudFormation stack)
  --tag TAG             image tag (default: latest)
  -h, --help            this help

Needs docker and the AWS CLI (v2) with credentials allowed to push to the repository.
EOF
}

# One line on stderr, exit 2: bad input never reaches Docker or AWS.
die() {
  echo "$prog: $*" >&2
  exit 2
}

# Any failure of a docker or aws call after validation: exit 1.
fail() {
  echo "$prog: $*" >&2
  exit 1
}

region=""
repository="rlpipe"
tag="latest"

# Flags: see aws/lib/flags.sh.
set_flag() {
  local flag=$1 value=$2
  case "$flag" in
    --region) region=$value ;;
    --repository) repository=$value ;;
    --tag) tag=$value ;;
    *) die "unknown option '$flag' (see --help)" ;;
  esac
}
# shellcheck source-path=SCRIPTDIR source=lib/flags.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/flags.sh"
parse_flags set_flag "$@"

[[ -n "$region" ]] || die "missing required --region (see --help)"
[[ "$region" =~ ^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$ ]] ||
  die "--region: expected a region name like us-east-1, found '$region'"
[[ "$repository" =~ ^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$ ]] ||
  die "--repository: expected lowercase letters, digits and . _ - /, found '$repository'"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] ||
  die "--tag: expected a Docker tag (letters, digits, _ . -), found '$tag'"

command -v docker >/dev/null || fail "docker is not installed or not on PATH"
command -v aws >/dev/null || fail "the AWS CLI ('aws') is not installed or not on PATH"

# The repository must exist (aws/deploy_sagemaker.sh creates it): look it up before building.
repository_uri=$(aws ecr describe-repositories --region "$region" --repository-names "$repository" \
  --query 'repositories[0].repositoryUri' --output text) ||
  fail "ECR repository '$repository' not found in $region (deploy the stack first)"
[[ "$repository_uri" == */* ]] || fail "unexpected repository URI '$repository_uri'"
registry=${repository_uri%%/*}
local_image="rlpipe:$tag"
remote_image="$repository_uri:$tag"

echo "$prog: building $local_image" >&2
docker build --platform linux/amd64 --file "$repo_root/docker/Dockerfile" --tag "$local_image" \
  "$repo_root" >&2 || fail "docker build failed"

# The password goes through a pipe, never the command line or the shell history.
echo "$prog: logging in to $registry" >&2
aws ecr get-login-password --region "$region" |
  docker login --username AWS --password-stdin "$registry" >&2 ||
  fail "docker login to $registry failed"

docker tag "$local_image" "$remote_image" >&2 || fail "docker tag failed"
echo "$prog: pushing $remote_image" >&2
docker push "$remote_image" >&2 || fail "docker push $remote_image failed"

echo "$prog: pushed; set aws.sagemaker.container_image_uri to:" >&2
echo "$remote_image"
