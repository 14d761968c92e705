#pragma once
/// RAII ownership of MuJoCo's mjModel and mjData, compilation of MJCF text held in memory (through
/// MuJoCo's virtual file system) with MuJoCo's own error text, and MuJoCo's warnings and errors as
/// data. MuJoCo is C: nothing here throws through its frames. The message handlers only record;
/// the C++ caller checks afterwards and throws from its own frame.
#include <mujoco/mujoco.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rlpipe::sim {

/// Deletes an mjModel with mj_deleteModel.
struct ModelDeleter {
  void operator()(mjModel* model) const;
};
/// Deletes an mjData with mj_deleteData.
struct DataDeleter {
  void operator()(mjData* data) const;
};

/// An owned mjModel.
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;
/// An owned mjData.
using DataPtr = std::unique_ptr<mjData, DataDeleter>;

/// Compiles MJCF text. Throws TrainingError with MuJoCo's error text (and the offending line of
/// the XML when MuJoCo names one) if the model does not compile.
ModelPtr CompileXml(std::string_view xml);

/// A deep copy of `model` (mj_copyModel), e.g. to change per-instance fields such as eq_active.
ModelPtr CopyModel(const mjModel& model);

/// Fresh data for `model` (mj_makeData). Throws TrainingError if MuJoCo cannot allocate it.
DataPtr MakeData(const mjModel& model);

/// mjData.warning[i].number for every warning kind, read as plain data.
struct WarningCounts {
  std::array<int64_t, mjNWARNING> number{};

  /// Sum over all kinds.
  int64_t Total() const;
  /// Adds another set of counts (e.g. before mj_resetData clears them).
  void Add(const WarningCounts& other);
  /// "BADQACC x3, CONTACTFULL x1" ("" when there are none).
  std::string ToString() const;
};

/// The warning counters of `data`.
WarningCounts ReadWarnings(const mjData& data);

/// Installs mju_user_error / mju_user_warning handlers that record the message for the calling
/// thread instead of printing or exiting. Idempotent and thread-safe; CompileXml and MakeData call
/// it, so any code that has a model has the handlers.
void InstallMessageHandlers();

/// Messages MuJoCo reported on this thread since the last call (and clears them).
struct Messages {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};
Messages TakeMessages();

/// Throws TrainingError if MuJoCo reported an error on this thread since the last check; `what`
/// names the operation (e.g. "mj_step"). Warnings are left for the caller to read.
void ThrowIfError(std::string_view what);

/// Calls a MuJoCo function `fn(model, data)` (e.g. mj_step) so that a MuJoCo error inside it
/// (mju_error, which assumes its handler never returns) leaves MuJoCo's C frames by longjmp back
/// here — the bridge MuJoCo's Python bindings use — and becomes a TrainingError "MuJoCo error in
/// <what>: <MuJoCo's message>" thrown from this C++ frame. The data is then unusable (the session
/// fails). Errors recorded without the bridge are thrown too (ThrowIfError).
void Guarded(std::string_view what, void (*fn)(const mjModel*, mjData*), const mjModel& model,
             mjData& data);
/// mj_step through Guarded.
void Step(const mjModel& model, mjData& data);
/// mj_forward through Guarded.
void Forward(const mjModel& model, mjData& data);

/// Steps `data` `count` times (Step).
void StepPhysics(const mjModel& model, mjData& data, int count);

}  // namespace rlpipe::sim
