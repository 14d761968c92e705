#include "sim/mujoco_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>

#include "core/error.h"

namespace rlpipe::sim {
namespace {

using ::testing::HasSubstr;

/// A ball falling onto a plane: small enough to read at a glance.
constexpr const char* kFallingBall = R"(
<mujoco>
  <option timestep="0.002"/>
  <worldbody>
    <geom type="plane" size="5 5 0.1"/>
    <body name="ball" pos="0 0 1">
      <freejoint/>
      <geom type="sphere" size="0.1" mass="1"/>
    </body>
  </worldbody>
</mujoco>)";

TEST(MujocoModelTest, CompilesAndSimulatesFromText) {
  ModelPtr model = CompileXml(kFallingBall);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->nbody, 2);
  DataPtr data = MakeData(*model);
  StepPhysics(*model, *data, 100);
  // Free fall for 0.2 s: z = 1 - g t^2 / 2 (semi-implicit Euler is within a step of it).
  EXPECT_NEAR(data->qpos[2], 1.0 - 0.5 * 9.81 * 0.2 * 0.2, 0.01);
  EXPECT_EQ(ReadWarnings(*data).Total(), 0);
}

TEST(MujocoModelTest, BadXmlThrowsWithMujocosText) {
  try {
    CompileXml("<mujoco><worldbody><geom type=\"sphere\" size=\"-1\"/></worldbody></mujoco>");
    FAIL() << "expected TrainingError";
  } catch (const TrainingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("MuJoCo could not compile the model"));
    // MuJoCo's own words and the line follow, on one line.
    EXPECT_THAT(e.what(), HasSubstr("sizes must be positive"));
    EXPECT_THAT(e.what(), HasSubstr("line = 1"));
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("\n")));
  }
  EXPECT_THROW(CompileXml("<mujoco><nonsense/></mujoco>"), TrainingError);
  EXPECT_THROW(CompileXml(""), TrainingError);
}

TEST(MujocoModelTest, WarningsAreCountedAndRecordedNotPrinted) {
  ModelPtr model = CompileXml(kFallingBall);
  DataPtr data = MakeData(*model);
  TakeMessages();

  // A NaN position makes mj_step raise BADQPOS (and reset the state) instead of diverging.
  data->qpos[2] = std::numeric_limits<double>::quiet_NaN();
  StepPhysics(*model, *data, 1);
  const WarningCounts counts = ReadWarnings(*data);
  EXPECT_EQ(counts.Total(), 1);
  EXPECT_EQ(counts.number[mjWARN_BADQPOS], 1);
  EXPECT_EQ(counts.ToString(), "BADQPOS x1");
  const Messages messages = TakeMessages();
  ASSERT_EQ(messages.warnings.size(), 1u);
  EXPECT_THAT(messages.warnings[0], HasSubstr("QPOS"));
  EXPECT_TRUE(messages.errors.empty());

  // Counts can be accumulated across resets (mj_resetData clears them).
  WarningCounts total = counts;
  mj_resetData(model.get(), data.get());
  EXPECT_EQ(ReadWarnings(*data).Total(), 0);
  total.Add(counts);
  EXPECT_EQ(total.Total(), 2);
}

TEST(MujocoModelTest, ErrorsAreRecordedPerThreadAndThrownByTheCaller) {
  InstallMessageHandlers();
  // mju_error would exit the process without our handler; with it, the C call returns normally.
  mju_error("simulated failure");
  std::thread other([] {
    // Another thread sees none of this thread's messages.
    EXPECT_TRUE(TakeMessages().errors.empty());
    EXPECT_NO_THROW(ThrowIfError("nothing"));
  });
  other.join();
  try {
    ThrowIfError("the test");
    FAIL() << "expected TrainingError";
  } catch (const TrainingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("MuJoCo error in the test: simulated failure"));
  }
  // Thrown once, then cleared.
  EXPECT_NO_THROW(ThrowIfError("again"));
}

TEST(MujocoModelTest, AFatalMujocoErrorInAStepBecomesAnExceptionAndTheProcessGoesOn) {
  // Twenty balls resting on the floor need contact memory; an mjData stack far too small for it
  // makes mj_step call mju_error ("Stack overflow"), which must not return into MuJoCo.
  std::string xml = "<mujoco><worldbody><geom type=\"plane\" size=\"10 10 1\"/>";
  for (int i = 0; i < 20; ++i) {
    xml += "<body pos=\"" + std::to_string(0.25 * i) +
           " 0 0.09\"><freejoint/><geom size=\"0.1\"/></body>";
  }
  xml += "</worldbody></mujoco>";
  ModelPtr model = CompileXml(xml);
  model->nstack = 200;
  DataPtr data = MakeData(*model);
  try {
    StepPhysics(*model, *data, 10);
    FAIL() << "expected TrainingError";
  } catch (const TrainingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("MuJoCo error in mj_step: Stack overflow"));
  }
  // Nothing is left behind: the next model on this thread simulates normally.
  ModelPtr ball = CompileXml(kFallingBall);
  DataPtr ball_data = MakeData(*ball);
  EXPECT_NO_THROW(StepPhysics(*ball, *ball_data, 10));
  EXPECT_TRUE(TakeMessages().errors.empty());
}

TEST(MujocoModelTest, CopyIsIndependentOfTheOriginal) {
  ModelPtr model = CompileXml(kFallingBall);
  ModelPtr copy = CopyModel(*model);
  copy->opt.timestep = 0.01;
  EXPECT_EQ(model->opt.timestep, 0.002);
  EXPECT_EQ(copy->nbody, model->nbody);
}

}  // namespace
}  // namespace rlpipe::sim
