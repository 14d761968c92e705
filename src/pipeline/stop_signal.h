#pragma once
/// Ctrl-C / SIGTERM handling: the first signal asks the running session to checkpoint and stop;
/// a second one ends the process at once (default action).

namespace rlpipe::pipeline {

/// Installs SIGINT and SIGTERM handlers (idempotent).
void InstallStopHandlers();
/// The signal number received, or 0.
int StopSignal();
/// Forgets a received signal (tests).
void ResetStopSignal();

}  // namespace rlpipe::pipeline
