#include "render/video_writer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "render/render_error.h"

namespace rlpipe::render {
namespace {

namespace fs = std::filesystem;

// Single-quotes `text` for /bin/sh.
std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The last non-empty line of a file ("" when there is none).
std::string LastLine(const fs::path& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

}  // namespace

std::optional<fs::path> FindFfmpeg() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / "ffmpeg";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

VideoWriter::VideoWriter(const fs::path& path, int width, int height, double fps)
    : path_(path),
      partial_(path.string() + ".partial.mp4"),
      log_(path.string() + ".ffmpeg.log"),
      width_(width),
      height_(height) {
  const std::optional<fs::path> ffmpeg = FindFfmpeg();
  if (!ffmpeg) {
    throw RenderError("render: writing " + path.string() +
                      " needs the ffmpeg program, which is not on PATH (apt-get install ffmpeg), "
                      "or render PNG frames instead with --render DIR/");
  }
  // H.264 in yuv420p (plays everywhere) needs even sizes.
  if (width % 2 != 0 || height % 2 != 0) {
    throw RenderError("render: an MP4 needs an even width and height, found " +
                      std::to_string(width) + "x" + std::to_string(height));
  }
  // Raw RGB on stdin; ffmpeg's chatter to a log beside the video, removed on success.
  char rate[32];
  std::snprintf(rate, sizeof(rate), "%.6g", fps);
  const std::string command =
      ShellQuote(ffmpeg->string()) + " -y -loglevel error -f rawvideo -pix_fmt rgb24 -s " +
      std::to_string(width) + "x" + std::to_string(height) + " -framerate " + rate +
      " -i - -an -c:v libx264 -preset veryfast -pix_fmt yuv420p -movflags +faststart -f mp4 " +
      ShellQuote(partial_.string()) + " 2> " + ShellQuote(log_.string());
  std::signal(SIGPIPE, SIG_IGN);  // a dead ffmpeg is an error from fwrite, not a signal
  pipe_ = popen(command.c_str(), "w");
  if (pipe_ == nullptr) throw RenderError("render: cannot start " + ffmpeg->string());
}

VideoWriter::~VideoWriter() {
  // Abandoned (an exception, or Close() failed): no partial file survives.
  if (pipe_ != nullptr) pclose(pipe_);
  std::error_code ignored;
  fs::remove(partial_, ignored);
  fs::remove(log_, ignored);
}

void VideoWriter::Write(const Image& frame) {
  if (frame.width != width_ || frame.height != height_) {
    throw RenderError("render: expected " + std::to_string(width_) + "x" + std::to_string(height_) +
                      " frames for " + path_.string() + ", found " + std::to_string(frame.width) +
                      "x" + std::to_string(frame.height));
  }
  if (pipe_ == nullptr ||
      std::fwrite(frame.rgb.data(), 1, frame.rgb.size(), pipe_) != frame.rgb.size()) {
    throw RenderError("render: ffmpeg stopped taking frames for " + path_.string() + ": " +
                      LastLine(log_));
  }
  ++frames_;
}

void VideoWriter::Close() {
  // ffmpeg's exit status decides; only a finished video gets the final name.
  const int status = pipe_ != nullptr ? pclose(pipe_) : -1;
  pipe_ = nullptr;
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw RenderError("render: ffmpeg failed writing " + path_.string() + ": " + LastLine(log_));
  }
  std::error_code ec;
  fs::rename(partial_, path_, ec);
  if (ec) throw RenderError("render: cannot write " + path_.string() + ": " + ec.message());
}

}  // namespace rlpipe::render
