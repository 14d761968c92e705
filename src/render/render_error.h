#pragma once
/// The error of the rendering package.
#include "core/error.h"

namespace rlpipe::render {

/// No OpenGL context could be had, MuJoCo's renderer failed, or an image or video could not be
/// written. what() is one line naming what was tried.
class RenderError : public Error {
 public:
  using Error::Error;
};

}  // namespace rlpipe::render
