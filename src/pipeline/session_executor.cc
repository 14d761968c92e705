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
  request.models_dir = run.models_dir;
  request.logs_dir = run.logs_dir;
  request.console = run.console;
  request.stop_requested = [] { return StopSignal() != 0; };
  request.on_message = [&](const std::string& m) { run.info("[" + spec.name + "] " + m); };
  return TrainSession(request);
}

}  // namespace rlpipe::pipeline
