#pragma once
/// Error hierarchy used at setup time (see DESIGN.md "Errors").
#include <stdexcept>
#include <string>

namespace rlpipe {

/// Base of every error rlpipe throws on purpose. what() is one line, ready to print.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad user input: a config file, a flag, a session name. Message names file:line:col and key path.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// Local file system problems (missing file, permission, disk full, corrupt archive).
class IoError : public Error {
 public:
  using Error::Error;
};

/// Numerical or simulation failures that abort a session (NaN loss, simulator failure).
class TrainingError : public Error {
 public:
  using Error::Error;
};

/// The user asked to stop (SIGINT/SIGTERM); carries the signal number.
class Interrupted : public Error {
 public:
  explicit Interrupted(int signal_number)
      : Error("interrupted by signal " + std::to_string(signal_number)), signal_(signal_number) {}
  int signal_number() const { return signal_; }

 private:
  int signal_;
};

}  // namespace rlpipe
