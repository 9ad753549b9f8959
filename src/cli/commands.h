#pragma once

namespace gemmsift::cli {

// Parses the command line, runs the command, prints errors to stderr. Returns the exit code.
int run(int argc, char** argv);

}  // namespace gemmsift::cli
