#include "pipeline/session_executor.h"

#include "pipeline/stop_signal.h"

namespace rlpipe::pipeline {

SessionTrainingOutcome LocalExecutor::Execute(const SessionRun& run) {
  const config::SessionSpec& spec = run.pipeline->sessions[run.index];
  SessionTrainingRequest request;
  request.session_name = spec.name;
  request.experiment = *run.experiment;
  request.seed = run.seed;
  request.init_checkpoint = run.init_checkpoint;
  request.transfer = spec.transfer;
  request.transfer_report = run.transfer_report;
  request.init_label = run.init_label;
  request.resume_checkpoint = run.resume_checkpoint;
  request.models_dir = run.models_dir;
  request.keep_all_checkpoints = run.pipeline->save_all_checkpoints;
  request.logs_dir = run.logs_dir;
  request.tensorboard_dir = run.tensorboard_dir;
  request.console = run.console;
  request.stop_requested = [] { return StopSignal() != 0; };
  request.on_message = [&](const std::string& m) { run.info("[" + spec.name + "] " + m); };
  if (run.on_progress) {
    request.on_progress = [&](const algos::ProgressEvent& e) {
      run.on_progress(e.timesteps, e.episodes);
    };
  }
  if (run.on_checkpoint) {
    request.on_checkpoint = [&](const std::filesystem::path&, int64_t timesteps) {
      run.on_checkpoint(timesteps);
    };
  }
  return TrainSession(request);
}

}  // namespace rlpipe::pipeline
