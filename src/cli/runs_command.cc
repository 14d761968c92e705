#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/pipeline_config.h"
#include "pipeline/run_mirror.h"
#include "storage/checkpoint_store.h"

namespace rlpipe::cli {
namespace {

/// Options of `rlpipe runs`.
struct RunsOptions {
  std::string bucket;
  std::string prefix;
  std::string region;
  std::string endpoint_url;
};

/// Prints one line per run found under the prefix.
int ListRunsCommand(const RunsOptions& options) {
  config::AwsConfig aws;
  aws.region = options.region;
  aws.s3_endpoint_url = options.endpoint_url;
  const pipeline::S3Location location =
      pipeline::ResolveS3Location(aws, options.bucket, options.prefix);
  const std::string prefix_uri = pipeline::PrefixUri(location);
  const std::unique_ptr<CheckpointStore> store =
      OpenCheckpointStore(prefix_uri, pipeline::MirrorStorageOptions(location));
  const std::vector<pipeline::RunSummary> runs = pipeline::ListRuns(*store, prefix_uri);

  // A table, one run per line.
  if (runs.empty()) {
    std::printf("no runs under %s/\n", prefix_uri.c_str());
    return 0;
  }
  std::printf("%-40s %-12s %-9s %-21s %s\n", "run_id", "status", "sessions", "updated", "pipeline");
  for (const auto& run : runs) {
    const std::string sessions =
        std::to_string(run.sessions_completed) + "/" + std::to_string(run.sessions_total);
    std::string status = run.status;
    if (run.pending_uploads > 0) status += "*";
    std::printf("%-40s %-12s %-9s %-21s %s\n", run.run_id.c_str(), status.c_str(), sessions.c_str(),
                run.last_updated.c_str(), run.pipeline_name.c_str());
  }
  std::printf("(%zu run(s) under %s/; * = uploads pending, finish them with run --resume)\n",
              runs.size(), prefix_uri.c_str());
  return 0;
}

}  // namespace

void AddRunsCommand(CLI::App& app, CommandFn* run) {
  auto options = std::make_shared<RunsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "runs", "List the runs kept in S3 (rlpipe run --use-s3) with their status.");
  cmd->add_option("--s3-bucket", options->bucket, "S3 bucket")->required();
  cmd->add_option("--s3-prefix", options->prefix, "key prefix the runs were written under");
  cmd->add_option("--region", options->region,
                  "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile, us-east-1)");
  cmd->add_option("--s3-endpoint-url", options->endpoint_url,
                  "S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS)");
  cmd->callback([options, run] { *run = [options] { return ListRunsCommand(*options); }; });
}

}  // namespace rlpipe::cli
