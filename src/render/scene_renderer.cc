#include "render/scene_renderer.h"

#include <cstring>
#include <string>

#include "render/render_error.h"

namespace rlpipe::render {
namespace {

// Scene room for the geoms a frame adds beyond the model's own (connections, markers).
constexpr int kExtraGeoms = 1000;

// The scene extent (m) MuJoCo's clip planes and shadow range are scaled by: near plane 0.01 ×,
// far plane 50 × (the visual defaults), shadows over 1 ×. The compiled model's own extent counts
// scenery parked far away until a reset places it (obstacle_navigation's obstacles at x = 1000 m,
// the object tasks' objects), which pushed the near plane metres out and hid the robots.
constexpr double kSceneExtent = 20.0;

// Throws RenderError with MuJoCo's error text when it reported one on this thread.
void ThrowIfMujocoError(const std::string& what) {
  const sim::Messages messages = sim::TakeMessages();
  if (!messages.errors.empty()) {
    throw RenderError("render: " + what + " failed: " + messages.errors.front());
  }
}

}  // namespace

SceneRenderer::SceneRenderer(const mjModel& model, const RenderOptions& options)
    : options_(options) {
  // The context first (it must be current before MuJoCo allocates GL resources), then a model
  // copy whose offscreen buffer has the frame's size.
  context_ = std::make_unique<GlContext>(options.width, options.height);
  sim::InstallMessageHandlers();
  model_ = sim::CopyModel(model);
  model_->vis.global.offwidth = options.width;
  model_->vis.global.offheight = options.height;
  model_->stat.extent = kSceneExtent;
  scratch_ = sim::MakeData(*model_);

  // MuJoCo's visualisation state and its OpenGL resources, drawing into the offscreen buffer.
  mjv_defaultScene(&scene_);
  mjv_defaultOption(&option_);
  mjv_defaultCamera(&camera_);
  mjr_defaultContext(&gl_);
  mjv_makeScene(model_.get(), &scene_, model_->ngeom + kExtraGeoms);
  mjr_makeContext(model_.get(), &gl_, mjFONTSCALE_100);
  ThrowIfMujocoError("mjr_makeContext (" + context_->Description() + ")");
  mjr_setBuffer(mjFB_OFFSCREEN, &gl_);
  if (gl_.currentBuffer != mjFB_OFFSCREEN) {
    throw RenderError("render: the OpenGL context (" + context_->Description() +
                      ") offers no offscreen framebuffer");
  }
  camera_.type = mjCAMERA_FREE;
  flipped_.resize(static_cast<size_t>(options.width) * static_cast<size_t>(options.height) * 3);
  image_.width = options.width;
  image_.height = options.height;
  image_.rgb.resize(flipped_.size());
}

SceneRenderer::~SceneRenderer() {
  mjr_freeContext(&gl_);
  mjv_freeScene(&scene_);
}

const Image& SceneRenderer::Render(const mjData& data, const CameraView& view,
                                   std::span<const Segment> segments) {
  // The state is copied: mjv_updateScene takes a mutable mjData and rendering must never change
  // what the simulation does.
  mj_copyData(scratch_.get(), model_.get(), &data);
  camera_.lookat[0] = view.lookat[0];
  camera_.lookat[1] = view.lookat[1];
  camera_.lookat[2] = view.lookat[2];
  camera_.distance = view.distance_m;
  camera_.azimuth = view.azimuth_deg;
  camera_.elevation = view.elevation_deg;
  mjv_updateScene(model_.get(), scratch_.get(), &option_, nullptr, &camera_, mjCAT_ALL, &scene_);

  // Extra capsules between point pairs, as long as the scene has room.
  for (const Segment& segment : segments) {
    if (scene_.ngeom >= scene_.maxgeom) break;
    mjvGeom* geom = scene_.geoms + scene_.ngeom;
    mjv_initGeom(geom, mjGEOM_CAPSULE, nullptr, nullptr, nullptr, segment.rgba.data());
    mjv_makeConnector(geom, mjGEOM_CAPSULE, segment.radius_m, segment.from[0], segment.from[1],
                      segment.from[2], segment.to[0], segment.to[1], segment.to[2]);
    ++scene_.ngeom;
  }

  // Draw, read back (OpenGL's rows run bottom to top) and flip.
  const mjrRect viewport{0, 0, options_.width, options_.height};
  mjr_render(viewport, &scene_, &gl_);
  mjr_readPixels(flipped_.data(), nullptr, viewport, &gl_);
  ThrowIfMujocoError("mjr_render");
  const size_t row = static_cast<size_t>(options_.width) * 3;
  for (int y = 0; y < options_.height; ++y) {
    std::memcpy(image_.rgb.data() + static_cast<size_t>(y) * row,
                flipped_.data() + static_cast<size_t>(options_.height - 1 - y) * row, row);
  }
  return image_;
}

}  // namespace rlpipe::render
