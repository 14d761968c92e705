#include "render/gl_context.h"

// EGL types and constants only (every function is looked up at run time); no X11 headers.
#define EGL_NO_X11
#define MESA_EGL_NO_X11_HEADERS
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "render/render_error.h"

namespace rlpipe::render {
namespace {

// OSMesa's constants (GL/osmesa.h, GL/gl.h), written out so the build needs no OSMesa headers.
constexpr int kOsMesaRgba = 0x1908;  // OSMESA_RGBA == GL_RGBA
constexpr unsigned kGlUnsignedByte = 0x1401;
constexpr unsigned kGlRenderer = 0x1F01;  // GL_RENDERER
using OsMesaContext = void*;
using OsMesaCreateContextExtFn = OsMesaContext (*)(int format, int depth_bits, int stencil_bits,
                                                   int accum_bits, OsMesaContext sharelist);
using OsMesaMakeCurrentFn = unsigned char (*)(OsMesaContext, void* buffer, unsigned type, int width,
                                              int height);
using OsMesaDestroyContextFn = void (*)(OsMesaContext);
using OsMesaGetProcAddressFn = void* (*)(const char*);
using GlGetStringFn = const unsigned char* (*)(unsigned name);

// Opens the first library of `names` that loads (RTLD_GLOBAL: MuJoCo's GL loader finds its
// symbols); `why` collects dlerror() otherwise.
void* OpenLibrary(const std::vector<const char*>& names, std::string& why) {
  for (const char* name : names) {
    if (void* handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL)) return handle;
    const char* error = dlerror();
    why = error != nullptr ? error : std::string("cannot open ") + name;
  }
  return nullptr;
}

bool HasExtension(const char* list, const char* name) {
  if (list == nullptr) return false;
  const size_t length = std::strlen(name);
  for (const char* p = std::strstr(list, name); p != nullptr; p = std::strstr(p + 1, name)) {
    const bool starts = p == list || p[-1] == ' ';
    const bool ends = p[length] == '\0' || p[length] == ' ';
    if (starts && ends) return true;
  }
  return false;
}

// The backend of the process's first context (MuJoCo keeps the GL functions it loaded then).
std::optional<GlBackend>& FirstBackend() {
  static std::optional<GlBackend> backend;
  return backend;
}

std::string HexCode(EGLint code) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%04x", static_cast<unsigned>(code));
  return text;
}

}  // namespace

struct GlContext::Impl {
  GlBackend backend = GlBackend::kEgl;
  std::string description;
  void* library = nullptr;
  // EGL
  EGLDisplay display = EGL_NO_DISPLAY;
  EGLContext context = EGL_NO_CONTEXT;
  PFNEGLTERMINATEPROC egl_terminate = nullptr;
  PFNEGLDESTROYCONTEXTPROC egl_destroy_context = nullptr;
  PFNEGLMAKECURRENTPROC egl_make_current = nullptr;
  // OSMesa
  OsMesaContext osmesa = nullptr;
  OsMesaDestroyContextFn osmesa_destroy = nullptr;
  std::vector<unsigned char> osmesa_buffer;

  // Each returns "" on success, else why it failed (and leaves nothing behind).
  std::string TryEgl();
  std::string TryOsMesa(int width, int height);
  void Release();
  // The current context's GL_RENDERER string, through glGetString (may be null).
  static std::string RendererString(GlGetStringFn get_string);
};

std::string GlContext::Impl::RendererString(GlGetStringFn get_string) {
  const unsigned char* text = get_string != nullptr ? get_string(kGlRenderer) : nullptr;
  return text != nullptr ? reinterpret_cast<const char*>(text) : "unknown renderer";
}

std::string GlContext::Impl::TryEgl() {
  std::string why;
  library = OpenLibrary({"libEGL.so.1", "libEGL.so"}, why);
  if (library == nullptr) return why + " (install libegl1 libegl-mesa0 libgl1-mesa-dri)";
  auto get_proc = reinterpret_cast<PFNEGLGETPROCADDRESSPROC>(dlsym(library, "eglGetProcAddress"));
  auto fn = [&](const char* name) {
    void* p = dlsym(library, name);
    return p != nullptr ? p : reinterpret_cast<void*>(get_proc(name));
  };
  auto query_string = reinterpret_cast<PFNEGLQUERYSTRINGPROC>(fn("eglQueryString"));
  auto get_display = reinterpret_cast<PFNEGLGETDISPLAYPROC>(fn("eglGetDisplay"));
  auto initialize = reinterpret_cast<PFNEGLINITIALIZEPROC>(fn("eglInitialize"));
  auto bind_api = reinterpret_cast<PFNEGLBINDAPIPROC>(fn("eglBindAPI"));
  auto choose_config = reinterpret_cast<PFNEGLCHOOSECONFIGPROC>(fn("eglChooseConfig"));
  auto create_context = reinterpret_cast<PFNEGLCREATECONTEXTPROC>(fn("eglCreateContext"));
  auto get_error = reinterpret_cast<PFNEGLGETERRORPROC>(fn("eglGetError"));
  egl_terminate = reinterpret_cast<PFNEGLTERMINATEPROC>(fn("eglTerminate"));
  egl_destroy_context = reinterpret_cast<PFNEGLDESTROYCONTEXTPROC>(fn("eglDestroyContext"));
  egl_make_current = reinterpret_cast<PFNEGLMAKECURRENTPROC>(fn("eglMakeCurrent"));
  if (get_proc == nullptr || query_string == nullptr || initialize == nullptr ||
      choose_config == nullptr || create_context == nullptr || egl_make_current == nullptr) {
    return "libEGL lacks EGL 1.4 entry points";
  }
  auto get_platform_display =
      reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(get_proc("eglGetPlatformDisplayEXT"));
  const char* client_extensions = query_string(EGL_NO_DISPLAY, EGL_EXTENSIONS);

  // A GPU first: the first EGL device that is not Mesa's software device.
  std::string platform;
  auto query_devices = reinterpret_cast<PFNEGLQUERYDEVICESEXTPROC>(get_proc("eglQueryDevicesEXT"));
  auto device_string =
      reinterpret_cast<PFNEGLQUERYDEVICESTRINGEXTPROC>(get_proc("eglQueryDeviceStringEXT"));
  if (get_platform_display != nullptr && query_devices != nullptr && device_string != nullptr &&
      HasExtension(client_extensions, "EGL_EXT_platform_device")) {
    EGLDeviceEXT devices[8];
    EGLint count = 0;
    if (query_devices(8, devices, &count) == EGL_TRUE) {
      for (EGLint i = 0; i < count && display == EGL_NO_DISPLAY; ++i) {
        if (HasExtension(device_string(devices[i], EGL_EXTENSIONS), "EGL_MESA_device_software")) {
          continue;
        }
        display = get_platform_display(EGL_PLATFORM_DEVICE_EXT, devices[i], nullptr);
        if (display != EGL_NO_DISPLAY && initialize(display, nullptr, nullptr) != EGL_TRUE) {
          display = EGL_NO_DISPLAY;
        }
        if (display != EGL_NO_DISPLAY) platform = "device " + std::to_string(i);
      }
    }
  }
  // Else Mesa's surfaceless platform (no display, no GPU), else the default display.
  if (display == EGL_NO_DISPLAY && get_platform_display != nullptr &&
      HasExtension(client_extensions, "EGL_MESA_platform_surfaceless")) {
    display = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (display != EGL_NO_DISPLAY && initialize(display, nullptr, nullptr) != EGL_TRUE) {
      display = EGL_NO_DISPLAY;
    }
    if (display != EGL_NO_DISPLAY) platform = "surfaceless";
  }
  if (display == EGL_NO_DISPLAY && get_display != nullptr) {
    display = get_display(EGL_DEFAULT_DISPLAY);
    if (display != EGL_NO_DISPLAY && initialize(display, nullptr, nullptr) != EGL_TRUE) {
      display = EGL_NO_DISPLAY;
    }
    if (display != EGL_NO_DISPLAY) platform = "default display";
  }
  if (display == EGL_NO_DISPLAY) {
    return "no EGL display could be initialised (error " +
           HexCode(get_error != nullptr ? get_error() : 0) + ")";
  }

  // Desktop OpenGL with depth and stencil; MuJoCo renders into its own framebuffer objects, so
  // the context needs no surface.
  if (bind_api == nullptr || bind_api(EGL_OPENGL_API) != EGL_TRUE) {
    egl_terminate(display);
    display = EGL_NO_DISPLAY;
    return "EGL display on " + platform + " has no desktop OpenGL";
  }
  // clang-format off
  const EGLint attributes[] = {
      EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
      EGL_DEPTH_SIZE, 24, EGL_STENCIL_SIZE, 8,
      EGL_COLOR_BUFFER_TYPE, EGL_RGB_BUFFER,
      EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
      EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
      EGL_NONE};
  // clang-format on
  EGLConfig config = nullptr;
  EGLint configs = 0;
  if (choose_config(display, attributes, &config, 1, &configs) != EGL_TRUE || configs < 1) {
    egl_terminate(display);
    display = EGL_NO_DISPLAY;
    return "EGL display on " + platform + " offers no RGBA8 + depth24 OpenGL config";
  }
  context = create_context(display, config, EGL_NO_CONTEXT, nullptr);
  if (context == EGL_NO_CONTEXT ||
      egl_make_current(display, EGL_NO_SURFACE, EGL_NO_SURFACE, context) != EGL_TRUE) {
    const EGLint error = get_error != nullptr ? get_error() : 0;
    Release();
    return "EGL context on " + platform + " failed (error " + HexCode(error) + ")";
  }
  backend = GlBackend::kEgl;
  description = "EGL " + platform + " (" +
                RendererString(reinterpret_cast<GlGetStringFn>(get_proc("glGetString"))) + ")";
  return "";
}

std::string GlContext::Impl::TryOsMesa(int width, int height) {
  std::string why;
  library = OpenLibrary({"libOSMesa.so.8", "libOSMesa.so.6", "libOSMesa.so"}, why);
  if (library == nullptr) return why + " (install libosmesa6)";
  auto create =
      reinterpret_cast<OsMesaCreateContextExtFn>(dlsym(library, "OSMesaCreateContextExt"));
  auto make_current = reinterpret_cast<OsMesaMakeCurrentFn>(dlsym(library, "OSMesaMakeCurrent"));
  auto get_proc = reinterpret_cast<OsMesaGetProcAddressFn>(dlsym(library, "OSMesaGetProcAddress"));
  osmesa_destroy = reinterpret_cast<OsMesaDestroyContextFn>(dlsym(library, "OSMesaDestroyContext"));
  if (create == nullptr || make_current == nullptr || get_proc == nullptr ||
      osmesa_destroy == nullptr) {
    Release();
    return "libOSMesa lacks OSMesaCreateContextExt/OSMesaMakeCurrent";
  }
  osmesa = create(kOsMesaRgba, 24, 8, 0, nullptr);
  if (osmesa == nullptr) {
    Release();
    return "OSMesaCreateContextExt failed";
  }
  osmesa_buffer.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
  if (make_current(osmesa, osmesa_buffer.data(), kGlUnsignedByte, width, height) == 0) {
    Release();
    return "OSMesaMakeCurrent failed";
  }
  backend = GlBackend::kOsMesa;
  description =
      "OSMesa (" + RendererString(reinterpret_cast<GlGetStringFn>(get_proc("glGetString"))) + ")";
  return "";
}

void GlContext::Impl::Release() {
  if (context != EGL_NO_CONTEXT) {
    egl_make_current(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    egl_destroy_context(display, context);
    context = EGL_NO_CONTEXT;
  }
  if (display != EGL_NO_DISPLAY) {
    egl_terminate(display);
    display = EGL_NO_DISPLAY;
  }
  if (osmesa != nullptr) {
    osmesa_destroy(osmesa);
    osmesa = nullptr;
  }
  // The library stays loaded: Mesa's drivers do not support being unloaded and reloaded.
  library = nullptr;
}

GlContext::GlContext(int width, int height) : impl_(std::make_unique<Impl>()) {
  if (width < 1 || height < 1) {
    throw RenderError("render: expected a frame size of at least 1x1, found " +
                      std::to_string(width) + "x" + std::to_string(height));
  }
  // MUJOCO_GL picks one backend; otherwise EGL, then OSMesa.
  const char* forced = std::getenv("MUJOCO_GL");
  const std::string choice = forced != nullptr ? forced : "";
  if (!choice.empty() && choice != "egl" && choice != "osmesa") {
    throw RenderError("render: MUJOCO_GL must be egl or osmesa (or unset), found '" + choice + "'");
  }
  // After the process's first context, only its backend (MuJoCo's GL functions point there).
  const std::optional<GlBackend> first = FirstBackend();
  if (first && !choice.empty() && (choice == "egl") != (*first == GlBackend::kEgl)) {
    throw RenderError("render: this process already renders through " +
                      std::string(*first == GlBackend::kEgl ? "EGL" : "OSMesa") +
                      "; MUJOCO_GL=" + choice + " needs a new process");
  }
  const bool egl = first ? *first == GlBackend::kEgl : choice.empty() || choice == "egl";
  const bool osmesa = first ? *first == GlBackend::kOsMesa : choice.empty() || choice == "osmesa";
  std::string tried;
  if (egl) {
    const std::string why = impl_->TryEgl();
    if (why.empty()) {
      FirstBackend() = GlBackend::kEgl;
      return;
    }
    tried += "EGL: " + why;
  }
  if (osmesa) {
    const std::string why = impl_->TryOsMesa(width, height);
    if (why.empty()) {
      FirstBackend() = GlBackend::kOsMesa;
      return;
    }
    tried += (tried.empty() ? "" : "; ") + std::string("OSMesa: ") + why;
  }
  throw RenderError("render: no offscreen OpenGL context (" + tried + ")");
}

GlContext::~GlContext() { impl_->Release(); }

GlBackend GlContext::backend() const { return impl_->backend; }

std::optional<GlBackend> GlContext::ProcessBackend() { return FirstBackend(); }

const std::string& GlContext::Description() const { return impl_->description; }

}  // namespace rlpipe::render
