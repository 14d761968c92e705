#pragma once
/// An offscreen OpenGL context with no display: EGL (a GPU's EGL device where one exists, else
/// Mesa's surfaceless platform with the llvmpipe software rasteriser), falling back to OSMesa.
/// Both libraries are opened at run time (dlopen), so programs that never render do not need
/// them installed. MUJOCO_GL=egl|osmesa forces one backend (as MuJoCo's Python bindings read it).
/// MuJoCo loads its OpenGL functions once per process, so a process renders through one backend:
/// after the first context, later ones use the same.
#include <memory>
#include <optional>
#include <string>

namespace rlpipe::render {

/// Which library provides the context.
enum class GlBackend { kEgl, kOsMesa };

/// One OpenGL context, current on the thread that created it for its whole life. Not movable;
/// one per thread.
class GlContext {
 public:
  /// Creates a context for rendering into offscreen framebuffers of up to `width` x `height`
  /// pixels (OSMesa renders into a buffer of that size) and makes it current. Throws RenderError
  /// naming every backend tried and why each failed.
  GlContext(int width, int height);
  ~GlContext();
  GlContext(const GlContext&) = delete;
  GlContext& operator=(const GlContext&) = delete;

  GlBackend backend() const;
  /// The backend of the process's first context (nullopt before there was one).
  static std::optional<GlBackend> ProcessBackend();
  /// "EGL 1.5 surfaceless (llvmpipe ...)" or "OSMesa (...)": the backend and GL renderer string.
  const std::string& Description() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rlpipe::render
