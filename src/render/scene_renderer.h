#pragma once
/// MuJoCo's own renderer (mjv_updateScene, mjr_render, mjr_readPixels) in an offscreen OpenGL
/// context: a model and a state in, an RGB image out.
#include <mujoco/mujoco.h>

#include <array>
#include <memory>
#include <span>
#include <string>

#include "render/gl_context.h"
#include "render/image.h"
#include "sim/mujoco_model.h"

namespace rlpipe::render {

/// Where the camera looks from (MuJoCo's free camera): it looks at `lookat` from `distance_m`
/// away, turned `azimuth_deg` about the vertical and `elevation_deg` (negative: from above).
struct CameraView {
  std::array<double, 3> lookat{0.0, 0.0, 0.0};
  double distance_m = 5.0;
  double azimuth_deg = 135.0;
  double elevation_deg = -30.0;
};

/// A capsule drawn between two points on top of the model's own geoms (e.g. a connection).
struct Segment {
  std::array<double, 3> from{};
  std::array<double, 3> to{};
  double radius_m = 0.02;
  std::array<float, 4> rgba{0.1f, 0.9f, 0.2f, 1.0f};
};

/// Frame size.
struct RenderOptions {
  int width = 640;   // pixels, >= 1
  int height = 480;  // pixels, >= 1
};

/// Renders states of one model. Owns its OpenGL context, which is current on the constructing
/// thread: create, use and destroy it on one thread. The model is copied (its offscreen buffer is
/// sized to the frame), so the caller may change the copy's colours through model() and the
/// original is never touched.
class SceneRenderer {
 public:
  /// Throws RenderError when no OpenGL context can be had or MuJoCo cannot set up its renderer.
  SceneRenderer(const mjModel& model, const RenderOptions& options);
  ~SceneRenderer();
  SceneRenderer(const SceneRenderer&) = delete;
  SceneRenderer& operator=(const SceneRenderer&) = delete;

  /// The renderer's own copy of the model (e.g. to recolour geoms before rendering).
  mjModel& model() { return *model_; }
  /// "EGL surfaceless (llvmpipe ...)": the context's backend and GL renderer.
  const std::string& Backend() const { return context_->Description(); }

  /// Renders `data` (a state of a model with the same sizes; it is copied, never changed) seen
  /// from `view`, with `segments` drawn on top. The image lives until the next call.
  const Image& Render(const mjData& data, const CameraView& view,
                      std::span<const Segment> segments = {});

 private:
  RenderOptions options_;
  std::unique_ptr<GlContext> context_;
  sim::ModelPtr model_;
  sim::DataPtr scratch_;  // a copy of the rendered state (mjv_updateScene takes mjData*)
  mjvScene scene_;
  mjvOption option_;
  mjvCamera camera_;
  mjrContext gl_;
  std::vector<uint8_t> flipped_;  // [height, width, 3] rows bottom to top, as GL reads them
  Image image_;
};

}  // namespace rlpipe::render
