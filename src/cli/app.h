// The `kiln` command line: flags and subcommands (CLI11), the global options, configuration
// (config.h), and the mapping of every outcome to output and an exit status (output.h):
// 0 success, 1 an API or environment error, 2 a usage error, 130 Ctrl-C while waiting;
// `connect` exits with the remote shell's status.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "cli/config.h"

namespace kiln::cli {

// Runs `kiln args...` (args without the program name) with `env`, writing to `out`/`err`.
// `out_is_tty` decides colour and in-place progress (with NO_COLOR and --no-color).
int RunKilnWith(const std::vector<std::string>& args, const Environment& env, std::FILE* out,
                std::FILE* err, bool out_is_tty);

// main(): the process's arguments, environment and stdio.
int RunKiln(int argc, char** argv);

}  // namespace kiln::cli
