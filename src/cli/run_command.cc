#include <cstdio>

#include "cli/commands.h"
#include "cli/sagemaker_plan.h"
#include "cli/session_video.h"
#include "pipeline/runner.h"

namespace rlpipe::cli {

void AddRunCommand(CLI::App& app, CommandFn* run) {
  auto options = std::make_shared<pipeline::RunOptions>();
  auto seed = std::make_shared<int64_t>(-1);
  auto sagemaker = std::make_shared<SageMakerRunFlags>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run a pipeline: its sessions in order, each handing its model to the next. Exit code 0 "
      "when all completed, 1 when a session failed, 2 on bad input, 130/143 when interrupted "
      "(Ctrl-C / SIGTERM; resume with --resume), 3 when an S3 upload failed (local results kept; "
      "--resume finishes it).");
  cmd->add_option("--config,-c", options->config_file, "pipeline YAML file")->required();
  cmd->add_option("--output-dir,-o", options->output_dir,
                  "output folder for state, reports, models and logs")
      ->capture_default_str();
  cmd->add_flag("--resume", options->resume,
                "continue the run in --output-dir: skip completed sessions, continue an "
                "interrupted (or killed) session from its latest checkpoint, re-run a failed "
                "one, continue");
  cmd->add_option("--start-from", options->start_from,
                  "run this session and every session after it");
  cmd->add_flag("--force", options->force,
                "resume even though a completed session's resolved config changed");
  cmd->add_option("--seed", *seed, "root seed (overrides the pipeline file's `seed`)");
  cmd->add_flag("--verbose,-v", options->verbose,
                "also list the config keys that have no effect (each already warned once)");
  cmd->add_flag("--use-s3", options->use_s3,
                "keep checkpoints, state and reports in S3 under s3://BUCKET/PREFIX/RUN_ID/ too "
                "(same as aws.use_s3: true); with --resume on an empty --output-dir, downloads "
                "the state and the models it needs");
  cmd->add_option("--s3-bucket", options->s3_bucket, "S3 bucket (overrides aws.s3_bucket)");
  cmd->add_option("--s3-prefix", options->s3_prefix, "key prefix (overrides aws.s3_prefix)");
  cmd->add_option("--run-id", options->run_id,
                  "names the run in S3 (default: the state's, else <pipeline-name>-<UTC time>)");
  AddSageMakerRunFlags(*cmd, *sagemaker);
  *run = nullptr;
  cmd->callback([options, seed, sagemaker, run] {
    *run = [options, seed, sagemaker] {
      if (*seed >= 0) options->seed = static_cast<uint64_t>(*seed);
      // environment.render_mode: rgb_array renders each such session's best model afterwards.
      options->on_session_completed = RenderSessionVideo;
      CheckSageMakerRunFlags(*sagemaker);
      if (sagemaker->platform == Platform::kSageMaker) {
        return RunOnSageMaker(*options, *sagemaker, stdout, stderr);
      }
      return pipeline::RunPipeline(*options, stdout);
    };
  });
}

}  // namespace rlpipe::cli
