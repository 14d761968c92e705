#include "algos/training_state.h"

#include <algorithm>
#include <cstring>
#include <regex>
#include <sstream>
#include <vector>

#include "algos/replay_segments.h"
#include "algos/train.h"
#include "checkpoint/checkpoint.h"
#include "core/error.h"

namespace rlpipe::algos {

std::string GeneratorState(const torch::Generator& generator) {
  // get_state() is a uint8 tensor of the engine's whole state.
  torch::Tensor state = generator.get_state().contiguous();
  return std::string(reinterpret_cast<const char*>(state.data_ptr<uint8_t>()),
                     static_cast<size_t>(state.numel()));
}

void SetGeneratorState(torch::Generator& generator, std::string_view state,
                       const std::string& origin) {
  torch::Tensor tensor = torch::empty({static_cast<int64_t>(state.size())}, torch::kUInt8);
  std::memcpy(tensor.data_ptr<uint8_t>(), state.data(), state.size());
  try {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(tensor);
  } catch (const c10::Error& e) {
    throw IoError(origin + ": expected a torch generator state, found one torch refuses (" +
                  e.what_without_backtrace() + ")");
  }
}

std::string ArchiveBytes(torch::serialize::OutputArchive& archive) {
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void LoadArchiveBytes(torch::serialize::InputArchive& archive, std::string_view bytes,
                      const std::string& origin) {
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error& e) {
    throw IoError(origin + ": expected a torch archive, found a corrupt one (" +
                  e.what_without_backtrace() + ")");
  }
}

void WriteScalar(torch::serialize::OutputArchive& archive, const std::string& key, double value) {
  archive.write(key, c10::IValue(value));
}

double ReadScalar(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  if (!archive.try_read(key, value) || !value.isDouble()) {
    throw IoError("training state: expected the number '" + key + "', found none");
  }
  return value.toDouble();
}

std::optional<ResumePoint> FindResumePoint(const std::filesystem::path& models_dir) {
  namespace fs = std::filesystem;
  try {
    // Candidates by the step count in their name, newest first.
    const fs::path dir = models_dir / "checkpoints";
    if (!fs::is_directory(dir)) return std::nullopt;
    static const std::regex kName(R"(rl_model_(\d+)_steps\.zip)");
    std::vector<std::pair<int64_t, fs::path>> candidates;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      std::smatch match;
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && std::regex_match(name, match, kName)) {
        candidates.emplace_back(std::stoll(match[1].str()), entry.path());
      }
    }
    std::sort(candidates.rbegin(), candidates.rend());

    // The first complete archive with a training state wins.
    for (const auto& [steps, path] : candidates) {
      // LoadModel checks every member's size and SHA-256 against the manifest.
      try {
        const checkpoint::LoadedModel model = checkpoint::LoadModel(path);
        if (model.from_sb3 || !model.extra_members.contains(kTrainingStateMember)) continue;
        // Its replay segments (SAC/TD3) must all be there too.
        const auto index = model.extra_members.find(kReplayIndexMember);
        if (index != model.extra_members.end() &&
            !ReplaySegmentsPresent(index->second, path.parent_path())) {
          continue;
        }
        return ResumePoint{path, model.data.num_timesteps, model.data.seed};
      } catch (const Error&) {
        continue;
      }
    }
  } catch (const std::exception&) {
    // An unreadable folder offers nothing to resume from.
  }
  return std::nullopt;
}

}  // namespace rlpipe::algos
