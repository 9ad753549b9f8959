// The gemmsift command: a thin layer over the library (src/cli/commands.cpp).
#include "cli/commands.h"

int main(int argc, char** argv) { return gemmsift::cli::run(argc, argv); }
