#include "tune/variant.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"

namespace rlpipe::tune {
namespace {

using config::FailAt;
using config::Tree;

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::vector<std::string> SessionNames(const config::PipelineConfig& pipeline) {
  std::vector<std::string> names;
  for (const auto& s : pipeline.sessions) names.push_back(s.name);
  return names;
}

const Parameter& FindParameter(const SearchSpace& space, const std::string& key) {
  for (const Parameter& p : space.parameters) {
    if (p.key == key) return p;
  }
  throw std::logic_error("no parameter " + key);
}

// Resolves every target session of `pipeline` with `values` merged into its overrides. A config
// error is reported at `blame` (the parameter being checked) unless it already names SPACE.yaml.
void ResolveWith(const config::PipelineConfig& pipeline, const SearchSpace& space,
                 const std::vector<std::pair<std::string, Tree>>& values, const Parameter& blame) {
  const std::vector<std::string> targets = TargetSessions(pipeline, space);
  for (const config::SessionSpec& original : pipeline.sessions) {
    if (std::find(targets.begin(), targets.end(), original.name) == targets.end()) continue;
    config::SessionSpec spec = original;
    try {
      for (const auto& [key, value] : values) SetTreePath(spec.overrides, key, value);
      config::ResolveSession(pipeline, spec);
    } catch (const ConfigError& e) {
      const std::string message = e.what();
      if (message.starts_with(space.file.string() + ":")) {
        throw ConfigError(message + " (in session '" + spec.name + "')");
      }
      FailAt(blame.loc, "parameters." + blame.key,
             "session '" + spec.name + "' does not accept it: " + message);
    }
  }
}

}  // namespace

const std::vector<std::string>& ReportMetrics() {
  static const std::vector<std::string> kMetrics{"best_mean_return", "final_mean_return",
                                                 "timesteps",        "episodes",
                                                 "duration_seconds", "steps_lost"};
  return kMetrics;
}

std::vector<std::string> TargetSessions(const config::PipelineConfig& pipeline,
                                        const SearchSpace& space) {
  return space.sessions.empty() ? SessionNames(pipeline) : space.sessions;
}

std::string MetricSession(const config::PipelineConfig& pipeline, const SearchSpace& space) {
  if (space.session) return *space.session;
  return pipeline.sessions.empty() ? "" : pipeline.sessions.back().name;
}

void SetTreePath(Tree& root, const std::string& key_path, const Tree& value) {
  // Split "a.b.c" and walk down, creating maps for missing keys.
  std::vector<std::string> keys;
  std::stringstream parts(key_path);
  for (std::string key; std::getline(parts, key, '.');) keys.push_back(key);
  if (keys.empty() || key_path.back() == '.' ||
      std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.empty(); })) {
    FailAt(value.key_loc, key_path, "expected a dotted key path like agent.learning_rate");
  }
  Tree* node = &root;
  std::string path;
  for (size_t i = 0; i < keys.size(); ++i) {
    path += (path.empty() ? "" : ".") + keys[i];
    if (node->kind == Tree::Kind::kNull) node->kind = Tree::Kind::kMap;
    if (node->kind != Tree::Kind::kMap) {
      FailAt(value.key_loc, key_path,
             "cannot set it: the training config's value at " + path + " is not a mapping");
    }
    if (i + 1 == keys.size()) {
      Tree leaf = value;
      leaf.key_loc = value.key_loc.line > 0 ? value.key_loc : value.loc;
      node->Set(keys[i], std::move(leaf));
      return;
    }
    Tree* child = node->Find(keys[i]);
    if (child == nullptr) {
      Tree map;
      map.kind = Tree::Kind::kMap;
      map.loc = value.key_loc;
      map.key_loc = value.key_loc;
      node->Set(keys[i], std::move(map));
      child = node->Find(keys[i]);
    }
    node = child;
  }
}

void CheckReportMetric(const SearchSpace& space) {
  const auto& metrics = ReportMetrics();
  if (std::find(metrics.begin(), metrics.end(), space.metric) == metrics.end()) {
    FailAt(space.metric_loc, "metric",
           "pipeline_report.json has no per-session figure '" + space.metric +
               "' (valid: " + JoinNames(metrics) + ")");
  }
}

void CheckLocalEarlyStopping(const config::PipelineConfig& pipeline, const SearchSpace& space,
                             const std::vector<Trial>& trials) {
  if (space.early_stopping == EarlyStopping::kOff) return;
  const config::SourceLoc loc = config::MapReader(&space.tree, "").LocOf("early_stopping");
  if (space.metric != "best_mean_return" && space.metric != "final_mean_return") {
    FailAt(loc, "early_stopping",
           "median early stopping compares evaluation returns, so the metric must be "
           "best_mean_return or final_mean_return (found '" +
               space.metric + "')");
  }
  // The metric session must evaluate, with every trial's values (eval_freq may be tuned).
  const std::string session = MetricSession(pipeline, space);
  const std::vector<std::string> targets = TargetSessions(pipeline, space);
  const bool targeted = std::find(targets.begin(), targets.end(), session) != targets.end();
  for (const config::SessionSpec& original : pipeline.sessions) {
    if (original.name != session) continue;
    for (const Trial& trial : trials) {
      config::SessionSpec spec = original;
      if (targeted) {
        for (const auto& [key, value] : trial.values) SetTreePath(spec.overrides, key, value);
      }
      if (config::ResolveSession(pipeline, spec).training.eval_freq <= 0) {
        FailAt(loc, "early_stopping",
               "session '" + session + "' never evaluates (training.eval_freq: 0" +
                   (trials.size() > 1 ? " in trial " + trial.id : std::string()) +
                   "), so there is nothing to compare");
      }
      if (!targeted) break;
    }
  }
}

void ValidateStudy(const config::PipelineConfig& pipeline, const SearchSpace& space,
                   const std::vector<Trial>& trials) {
  // Session names exist.
  const std::vector<std::string> names = SessionNames(pipeline);
  auto known = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  if (space.session && !known(*space.session)) {
    FailAt(space.session_loc, "session",
           "no session '" + *space.session + "' in " + pipeline.file.string() +
               " (sessions: " + JoinNames(names) + ")");
  }
  for (const std::string& s : space.sessions) {
    if (!known(s)) {
      FailAt(space.sessions_loc, "sessions",
             "no session '" + s + "' in " + pipeline.file.string() +
                 " (sessions: " + JoinNames(names) + ")");
    }
  }
  // Each parameter alone, with each of its values (a range: both ends), so an error names the
  // value that caused it.
  for (const Parameter& p : space.parameters) {
    std::vector<Tree> candidates = p.values;
    if (p.IsRange()) {
      for (double end : {p.min, p.max}) {
        std::string text = p.integer ? std::to_string(static_cast<int64_t>(end)) : "";
        if (!p.integer) {
          std::ostringstream os;
          os.precision(17);
          os << end;
          text = os.str();
        }
        Tree value = Tree::Scalar(text, p.loc);
        value.key_loc = p.loc;
        candidates.push_back(std::move(value));
      }
    }
    for (Tree value : candidates) {
      value.key_loc = p.loc;
      ResolveWith(pipeline, space, {{p.key, value}}, p);
    }
  }
  // Then every trial whole (parameters can constrain each other, e.g. batch_size and n_steps).
  for (const Trial& trial : trials) {
    std::vector<std::pair<std::string, Tree>> values = trial.values;
    for (auto& [key, value] : values) value.key_loc = FindParameter(space, key).loc;
    ResolveWith(pipeline, space, values, FindParameter(space, trial.values.front().first));
  }
}

Tree VariantPipeline(const config::PipelineConfig& pipeline, const SearchSpace& space,
                     const Trial& trial, uint64_t seed) {
  Tree root = config::LoadYamlFile(pipeline.file);
  root.Set("seed", Tree::Scalar(std::to_string(seed)));
  Tree* sessions = root.Find("sessions");
  if (sessions == nullptr || sessions->items.size() != pipeline.sessions.size()) {
    throw ConfigError(pipeline.file.string() + ": sessions changed while the study was set up");
  }
  const std::vector<std::string> targets = TargetSessions(pipeline, space);
  for (size_t i = 0; i < pipeline.sessions.size(); ++i) {
    const config::SessionSpec& spec = pipeline.sessions[i];
    Tree& item = sessions->items[i];
    // Paths that were relative to the pipeline's folder become absolute.
    item.Set("config", Tree::Scalar(spec.config.string()));
    if (spec.checkpoint) item.Set("checkpoint", Tree::Scalar(spec.checkpoint->string()));
    if (std::find(targets.begin(), targets.end(), spec.name) == targets.end()) continue;
    Tree overrides = item.Find("overrides") ? *item.Find("overrides") : Tree{};
    for (const auto& [key, value] : trial.values) {
      Tree v = value;
      v.key_loc = FindParameter(space, key).loc;
      SetTreePath(overrides, key, v);
    }
    item.Set("overrides", std::move(overrides));
  }
  return root;
}

}  // namespace rlpipe::tune
