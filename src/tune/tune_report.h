#pragma once
/// D/tune_report.html: a self-contained page (inline SVG and CSS, nothing fetched) of a study —
/// the ranked table, the metric against each parameter (a scatter: every run, and each trial's
/// mean over its seeds), and every run's evaluation curve (mean eval return against timesteps of
/// the metric's session, from D/trials/<run>/<session>/logs/evaluations.csv).
#include <filesystem>
#include <string>

#include "tune/study.h"

namespace rlpipe::tune {

inline constexpr char kTuneReportFile[] = "tune_report.html";

/// The page for `state`; run folders are read under `output_dir` (absent ones draw nothing).
std::string RenderTuneReport(const StudyState& state, const std::filesystem::path& output_dir);

/// Writes D/tune_report.html atomically and returns its path.
std::filesystem::path WriteTuneReport(const StudyState& state,
                                      const std::filesystem::path& output_dir);

}  // namespace rlpipe::tune
