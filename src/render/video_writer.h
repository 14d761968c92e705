#pragma once
/// MP4 videos through Debian's `ffmpeg` program: raw RGB frames piped into it (H.264, yuv420p).
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "render/image.h"

namespace rlpipe::render {

/// The `ffmpeg` program on PATH, or nullopt.
std::optional<std::filesystem::path> FindFfmpeg();

/// Writes one video. Frames go to `<path>.partial.mp4` through an ffmpeg child process; Close()
/// renames it to `path` once ffmpeg succeeded, so a failed or abandoned render never leaves a
/// half-written video under the final name (the destructor removes the partial file).
class VideoWriter {
 public:
  /// Starts ffmpeg for frames of `width` x `height` at `fps` frames per second. Throws
  /// RenderError when ffmpeg is missing (suggesting PNG frames instead) or cannot start.
  VideoWriter(const std::filesystem::path& path, int width, int height, double fps);
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  /// Appends one frame (the size given at construction). Throws RenderError when ffmpeg died.
  void Write(const Image& frame);
  /// Waits for ffmpeg and moves the video to its final name. Throws RenderError with ffmpeg's
  /// last output line when it failed.
  void Close();
  int frames() const { return frames_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path partial_;
  std::filesystem::path log_;  // ffmpeg's stderr
  int width_;
  int height_;
  std::FILE* pipe_ = nullptr;
  int frames_ = 0;
};

}  // namespace rlpipe::render
