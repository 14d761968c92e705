#pragma once
/// The command line: a table of subcommands, one small file each (flags → options → library).
#include <cstdio>

namespace rlpipe::cli {

/// Parses argv and runs the subcommand; returns the process exit code. Throws rlpipe::Error for
/// bad input (the app prints it as one line).
int Main(int argc, char** argv);

}  // namespace rlpipe::cli
