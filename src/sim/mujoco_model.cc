#include "sim/mujoco_model.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "core/error.h"

namespace rlpipe::sim {
namespace {

/// Short names of mjtWarning values, in enum order.
constexpr std::array<const char*, mjNWARNING> kWarningNames = {
    "INERTIA", "CONTACTFULL", "CNSTRFULL", "VGEOMFULL", "BADQPOS", "BADQVEL", "BADQACC", "BADCTRL"};

/// Keep at most this many messages of each kind per thread (a diverging sim repeats itself).
constexpr size_t kMaxMessages = 32;

/// Messages recorded on this thread since the last TakeMessages.
thread_local Messages tls_messages;

void Record(std::vector<std::string>& list, const char* message) {
  if (list.size() < kMaxMessages) list.emplace_back(message != nullptr ? message : "");
}

/// The innermost Guarded call on this thread (null outside one) and the message it receives.
thread_local std::jmp_buf* tls_guard = nullptr;
thread_local char tls_guard_message[1024];

// MuJoCo calls these from C frames: they must not throw. mju_error assumes its handler never
// returns, so inside a Guarded call the error handler leaves MuJoCo's frames with longjmp (the
// bridge MuJoCo's own Python bindings use); elsewhere it can only record.
extern "C" void RecordError(const char* message) noexcept {
  if (tls_guard != nullptr) {
    std::snprintf(tls_guard_message, sizeof(tls_guard_message), "%s",
                  message != nullptr ? message : "");
    std::longjmp(*tls_guard, 1);
  }
  try {
    Record(tls_messages.errors, message);
  } catch (...) {
    // Out of memory while recording: nothing safe is left to do here.
  }
}

/// Calls fn(model, data) with the longjmp bridge armed; false (and the message in
/// tls_guard_message) when MuJoCo raised an error. No object with a destructor may live in this
/// frame between setjmp and the call: longjmp does not unwind.
bool CallWithBridge(void (*fn)(const mjModel*, mjData*), const mjModel* model, mjData* data) {
  std::jmp_buf buffer;
  std::jmp_buf* const outer = tls_guard;
  tls_guard = &buffer;
  if (setjmp(buffer) != 0) {
    tls_guard = outer;
    return false;
  }
  fn(model, data);
  tls_guard = outer;
  return true;
}

extern "C" void RecordWarning(const char* message) noexcept {
  try {
    Record(tls_messages.warnings, message);
  } catch (...) {
    // As above.
  }
}

}  // namespace

void ModelDeleter::operator()(mjModel* model) const { mj_deleteModel(model); }
void DataDeleter::operator()(mjData* data) const { mj_deleteData(data); }

void InstallMessageHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    mju_user_error = RecordError;
    mju_user_warning = RecordWarning;
  });
}

Messages TakeMessages() { return std::exchange(tls_messages, Messages{}); }

void ThrowIfError(std::string_view what) {
  if (tls_messages.errors.empty()) return;
  const Messages messages = TakeMessages();
  throw TrainingError("MuJoCo error in " + std::string(what) + ": " + messages.errors.front());
}

ModelPtr CompileXml(std::string_view xml) {
  InstallMessageHandlers();
  if (xml.empty()) throw TrainingError("MuJoCo model: the MJCF text is empty");

  // Put the text into a virtual file system as one file (mjVFS is ~2 MB: keep it on the heap).
  constexpr const char* kFileName = "rlpipe_model.xml";
  auto vfs = std::make_unique<mjVFS>();
  mj_defaultVFS(vfs.get());
  if (mj_makeEmptyFileVFS(vfs.get(), kFileName, static_cast<int>(xml.size())) != 0) {
    throw TrainingError("MuJoCo model: cannot allocate the virtual file");
  }
  const int file = mj_findFileVFS(vfs.get(), kFileName);
  std::memcpy(vfs->filedata[file], xml.data(), xml.size());

  // Compile; MuJoCo writes its reason into `error` when it returns null.
  char error[1024] = "";
  mjModel* model = mj_loadXML(kFileName, vfs.get(), error, sizeof(error));
  mj_deleteVFS(vfs.get());
  TakeMessages();
  if (model == nullptr) {
    // Errors are one line (core/error.h): MuJoCo's multi-line text is joined with "; ".
    std::string text = error;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    for (size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at)) {
      text.replace(at, 1, "; ");
    }
    throw TrainingError("MuJoCo could not compile the model: " + text);
  }
  return ModelPtr(model);
}

ModelPtr CopyModel(const mjModel& model) {
  InstallMessageHandlers();
  mjModel* copy = mj_copyModel(nullptr, &model);
  ThrowIfError("mj_copyModel");
  if (copy == nullptr) throw TrainingError("MuJoCo could not copy the model");
  return ModelPtr(copy);
}

DataPtr MakeData(const mjModel& model) {
  InstallMessageHandlers();
  mjData* data = mj_makeData(&model);
  ThrowIfError("mj_makeData");
  if (data == nullptr) throw TrainingError("MuJoCo could not allocate mjData");
  return DataPtr(data);
}

int64_t WarningCounts::Total() const {
  int64_t total = 0;
  for (int64_t n : number) total += n;
  return total;
}

void WarningCounts::Add(const WarningCounts& other) {
  for (size_t i = 0; i < number.size(); ++i) number[i] += other.number[i];
}

std::string WarningCounts::ToString() const {
  std::string text;
  for (size_t i = 0; i < number.size(); ++i) {
    if (number[i] == 0) continue;
    if (!text.empty()) text += ", ";
    text += std::string(kWarningNames[i]) + " x" + std::to_string(number[i]);
  }
  return text;
}

WarningCounts ReadWarnings(const mjData& data) {
  WarningCounts counts;
  for (int i = 0; i < mjNWARNING; ++i)
    counts.number[static_cast<size_t>(i)] = data.warning[i].number;
  return counts;
}

void Guarded(std::string_view what, void (*fn)(const mjModel*, mjData*), const mjModel& model,
             mjData& data) {
  InstallMessageHandlers();
  if (!CallWithBridge(fn, &model, &data)) {
    throw TrainingError("MuJoCo error in " + std::string(what) + ": " + tls_guard_message +
                        " (the simulation state is lost)");
  }
  ThrowIfError(what);
}

void Step(const mjModel& model, mjData& data) { Guarded("mj_step", mj_step, model, data); }

void Forward(const mjModel& model, mjData& data) { Guarded("mj_forward", mj_forward, model, data); }

void StepPhysics(const mjModel& model, mjData& data, int count) {
  for (int i = 0; i < count; ++i) Step(model, data);
}

}  // namespace rlpipe::sim
