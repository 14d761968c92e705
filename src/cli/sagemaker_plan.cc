#include "cli/sagemaker_plan.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>

#include "core/error.h"
#include "pipeline/run_mirror.h"
#include "platform/sagemaker_platform.h"
#include "platform/sagemaker_request.h"

namespace rlpipe::cli {
namespace {

/// The SageMaker platform's settings from flags and the environment (RLPIPE_SM_POLL_MS: the
/// first wait between two DescribeTrainingJob calls, in ms).
platform::SageMakerPlatformOptions SageMakerOptions(const std::string& role_arn) {
  platform::SageMakerPlatformOptions options;
  options.role_arn = role_arn;
  if (const char* poll = std::getenv("RLPIPE_SM_POLL_MS"); poll && *poll) {
    char* end = nullptr;
    const long ms = std::strtol(poll, &end, 10);
    if (*end != '\0' || ms < 1) {
      throw ConfigError(std::string("RLPIPE_SM_POLL_MS: expected a whole number of ms >= 1, "
                                    "found '") +
                        poll + "'");
    }
    options.poll_min = std::chrono::milliseconds(ms);
    options.poll_max = std::max(options.poll_max, options.poll_min);
  }
  return options;
}

}  // namespace

void AddSageMakerRunFlags(CLI::App& cmd, SageMakerRunFlags& flags) {
  const std::map<std::string, Platform> platforms = {{"local", Platform::kLocal},
                                                     {"sagemaker", Platform::kSageMaker}};
  cmd.add_option("--platform", flags.platform,
                 "where sessions run: local (this process, default) or sagemaker (one SageMaker "
                 "training job per session, settings from aws.sagemaker; see docs/sagemaker.md)")
      ->transform(CLI::CheckedTransformer(platforms, CLI::ignore_case));
  cmd.add_option("--role-arn", flags.role_arn,
                 "with --platform sagemaker: the IAM role the jobs run as (overrides "
                 "aws.sagemaker.role_arn and every session's aws_overrides)");
  cmd.add_flag("--dry-run", flags.dry_run,
               "with --platform sagemaker: print each session's CreateTrainingJob request as JSON "
               "(in session order) and exit 0; sends nothing and creates no folders");
}

void CheckSageMakerRunFlags(const SageMakerRunFlags& flags) {
  if (flags.platform == Platform::kSageMaker) return;
  if (flags.dry_run) throw ConfigError("--dry-run: only with --platform sagemaker");
  if (!flags.role_arn.empty()) throw ConfigError("--role-arn: only with --platform sagemaker");
}

int RunOnSageMaker(const pipeline::RunOptions& options, const SageMakerRunFlags& flags,
                   std::FILE* out, std::FILE* err) {
  // Resolve and validate everything first: nothing is printed for an invalid pipeline.
  pipeline::ResolvedPipeline resolved = pipeline::ResolvePipeline(options.config_file);
  if (options.seed) resolved.pipeline.seed = *options.seed;
  platform::SageMakerPlanOptions plan_options;
  plan_options.run_id =
      options.run_id ? *options.run_id : pipeline::GenerateRunId(resolved.pipeline.name);
  plan_options.s3_bucket = options.s3_bucket;
  plan_options.s3_prefix = options.s3_prefix;
  plan_options.role_arn = flags.role_arn;
  plan_options.timestamp = platform::JobTimestamp(std::time(nullptr));
  const platform::SageMakerPlan plan =
      platform::PlanSageMakerRun(resolved.pipeline, resolved.sessions, plan_options);
  for (const std::string& warning : plan.warnings)
    std::fprintf(err, "rlpipe: %s\n", warning.c_str());

  if (!flags.dry_run) {
    // Submit: the pipeline runner with the SageMaker executor (one training job per session).
    pipeline::RunOptions run = options;
    run.executor =
        std::make_shared<platform::SageMakerExecutor>(SageMakerOptions(flags.role_arn), out);
    return pipeline::RunPipeline(run, out);
  }
  // One pretty JSON document per session, in order; uploads it would do first go to `err`.
  for (const platform::PlannedJob& job : plan.jobs) {
    if (!job.upload_from.empty()) {
      std::fprintf(err, "rlpipe: session %s: would upload %s to %s first\n", job.session.c_str(),
                   job.upload_from.c_str(), job.upload_to.c_str());
    }
    std::fprintf(out, "%s\n", job.request.dump(2).c_str());
  }
  return 0;
}

}  // namespace rlpipe::cli
