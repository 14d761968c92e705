// rlpipe's main(): run the CLI, print any error as one line, return an exit code.
#include <cstdio>
#include <exception>

#include "cli/cli.h"
#include "core/error.h"

int main(int argc, char** argv) {
  try {
    return rlpipe::cli::Main(argc, argv);
  } catch (const rlpipe::ConfigError& e) {
    std::fprintf(stderr, "rlpipe: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rlpipe: error: %s\n", e.what());
    return 1;
  }
}
