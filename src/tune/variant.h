#pragma once
/// Pipeline variants: the study's pipeline with one trial's values folded into its sessions'
/// `overrides:` and its root seed replaced. Pure functions over config trees, so the same
/// variant is validated before anything runs, written for each child run, and written as
/// best_pipeline.yaml.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/pipeline_config.h"
#include "config/tree.h"
#include "tune/space.h"

namespace rlpipe::tune {

/// The per-session figures of pipeline_report.json a local study can optimise (numbers only).
const std::vector<std::string>& ReportMetrics();

/// Throws ConfigError at SPACE.yaml's `metric:` unless it is one of ReportMetrics().
void CheckReportMetric(const SearchSpace& space);

/// `early_stopping: median` in a local study judges the metric session's evaluation returns,
/// so it needs a return metric (best_mean_return or final_mean_return) and a metric session that
/// evaluates (training.eval_freq > 0 with every trial's values). Throws ConfigError at SPACE.yaml's
/// `early_stopping:` otherwise; does nothing when early stopping is off.
void CheckLocalEarlyStopping(const config::PipelineConfig& pipeline, const SearchSpace& space,
                             const std::vector<Trial>& trials);

/// Checks the space against the pipeline before anything runs: `session:` and `sessions:` name
/// sessions of the pipeline, and every trial resolves (each parameter's key path exists in each
/// session's training config and each value is in range). A problem is a ConfigError
/// "SPACE.yaml:line:col: key path: problem" (the inner config error's text follows when
/// resolution failed).
void ValidateStudy(const config::PipelineConfig& pipeline, const SearchSpace& space,
                   const std::vector<Trial>& trials);

/// The names of the sessions the space's overrides apply to (all when `sessions:` is empty).
std::vector<std::string> TargetSessions(const config::PipelineConfig& pipeline,
                                        const SearchSpace& space);

/// The session whose figure is the metric: `session:`, else the pipeline's last.
std::string MetricSession(const config::PipelineConfig& pipeline, const SearchSpace& space);

/// The pipeline file's tree with `trial`'s values set under each target session's `overrides:`
/// (creating maps on the way), the root `seed:` set to `seed`, and every session's `config:` and
/// `checkpoint:` made absolute (the variant lives in another folder). Runnable as is.
config::Tree VariantPipeline(const config::PipelineConfig& pipeline, const SearchSpace& space,
                             const Trial& trial, uint64_t seed);

/// Sets `value` at dotted `key_path` under `root` (a map or null), creating maps as needed;
/// the value keeps its own source location. Throws ConfigError at `value`'s location when a
/// step is not a mapping.
void SetTreePath(config::Tree& root, const std::string& key_path, const config::Tree& value);

}  // namespace rlpipe::tune
