#include "pipeline/state.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "pipeline/report.h"

namespace rlpipe::pipeline {
namespace {

PipelineState Sample() {
  PipelineState s;
  s.pipeline_name = "p";
  s.pipeline_file = "/x/p.yaml";
  s.seed = 42;
  s.started_at = "2026-01-01T00:00:00Z";
  s.sessions_completed = {"a"};
  s.current_session = "b";
  s.checkpoints = {{"a", "a/models/best_model.zip"}};
  SessionRecord a;
  a.name = "a";
  a.status = SessionStatus::kCompleted;
  a.best_mean_return = -150.5;
  a.timesteps = 1000;
  a.attempts = 1;
  a.checkpoint = "a/models/best_model.zip";
  SessionRecord b;
  b.name = "b";
  b.status = SessionStatus::kRunning;
  b.error = "boom";
  b.timesteps = 700;
  b.resumed_from = "b/models.partial/checkpoints/rl_model_512_steps.zip";
  b.resumed_from_timesteps = 512;
  b.steps_lost = 188;
  s.sessions = {a, b};
  s.run_id = "r1";
  s.run_uri = "s3://bucket/prefix/r1";
  s.pending_uploads = {"checkpoints/a"};
  return s;
}

TEST(StateTest, JsonRoundTripKeepsEveryField) {
  const PipelineState s = Sample();
  const PipelineState t = StateFromJson(StateToJson(s), "mem");
  EXPECT_EQ(StateToJson(t), StateToJson(s));
  EXPECT_EQ(t.sessions[0].status, SessionStatus::kCompleted);
  EXPECT_EQ(*t.sessions[0].best_mean_return, -150.5);
  EXPECT_FALSE(t.sessions[1].best_mean_return.has_value());
  EXPECT_EQ(*t.current_session, "b");
  EXPECT_EQ(*t.run_id, "r1");
  EXPECT_EQ(*t.run_uri, "s3://bucket/prefix/r1");
  EXPECT_EQ(t.pending_uploads, std::vector<std::string>{"checkpoints/a"});
  EXPECT_EQ(*t.sessions[1].resumed_from_timesteps, 512);
  EXPECT_EQ(t.sessions[1].steps_lost, 188);
  EXPECT_FALSE(t.sessions[0].resumed_from.has_value());
}

TEST(StateTest, SaveIsAtomicAndStampsLastUpdated) {
  const auto path = std::filesystem::temp_directory_path() / "rlpipe_state_test/state.json";
  std::filesystem::remove_all(path.parent_path());
  PipelineState s = Sample();
  SaveState(path, s);
  EXPECT_FALSE(s.last_updated.empty());
  EXPECT_EQ(LoadState(path).last_updated, s.last_updated);
  // Only the state file is in the folder: no temp files left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(StateTest, MalformedStateNamesTheFile) {
  EXPECT_THROW(StateFromJson("{not json", "x/pipeline_state.json"), IoError);
  try {
    StateFromJson(R"({"session_order":["a"],"sessions":{"a":{"status":"weird"}}})", "s.json");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("s.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("weird"), std::string::npos);
  }
}

TEST(StateTest, FingerprintIsStableAndSensitive) {
  EXPECT_EQ(Fingerprint("a: 1\n"), Fingerprint("a: 1\n"));
  EXPECT_NE(Fingerprint("a: 1\n"), Fingerprint("a: 2\n"));
  EXPECT_EQ(Fingerprint("").size(), 16u);
}

TEST(ReportTest, CountsAndSessionRows) {
  ReportSettings settings;
  settings.description = "desc";
  const std::string text =
      RenderReportJson(Sample(), settings, "/nonexistent", "2026-01-01T01:00:00Z");
  EXPECT_NE(text.find("\"completed\": 1"), std::string::npos) << text;
  EXPECT_NE(text.find("\"running\": 1"), std::string::npos) << text;
  EXPECT_NE(text.find("\"best_mean_return\": -150.5"), std::string::npos) << text;
  EXPECT_NE(text.find("\"error\": \"boom\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"steps_lost\": 188"), std::string::npos) << text;
  EXPECT_NE(text.find("\"resumed_from_timesteps\": 512"), std::string::npos) << text;
}

}  // namespace
}  // namespace rlpipe::pipeline
