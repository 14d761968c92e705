#include "pipeline/output_folder.h"

#include <regex>

namespace rlpipe::pipeline {
namespace fs = std::filesystem;

std::string StorePath(const fs::path& output_dir, const fs::path& path) {
  const fs::path rel = path.lexically_relative(output_dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
  return path.string();
}

fs::path LoadPath(const fs::path& output_dir, const std::string& stored) {
  const fs::path p(stored);
  return p.is_absolute() ? p : output_dir / p;
}

void PromoteFolder(const fs::path& staging, const fs::path& target) {
  const fs::path old = target.string() + ".old";
  fs::remove_all(old);
  if (fs::exists(target)) fs::rename(target, old);
  fs::rename(staging, target);
  fs::remove_all(old);
}

void DiscardAfter(const fs::path& checkpoints_dir, int64_t timesteps) {
  static const std::regex kName(R"(rl_model_(\d+)_steps\.zip)");
  for (const fs::directory_entry& entry : fs::directory_iterator(checkpoints_dir)) {
    std::smatch match;
    const std::string name = entry.path().filename().string();
    const bool temp = name.starts_with(".") && name.find(".tmp.") != std::string::npos;
    const bool newer = std::regex_match(name, match, kName) && std::stoll(match[1]) > timesteps;
    if (temp || newer) fs::remove(entry.path());
  }
}

}  // namespace rlpipe::pipeline
