// Runs external programs (tar, mke2fs, restic) for the benchmark and captures what they print.
// The benchmark is the only kiln code that spawns processes before the ProcessRunner seam lands
// in src/env; this stays small and local until then.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace kiln::bench {

struct CommandResult {
  int exit_code = 0;   // the program's exit status; 128+N when killed by signal N
  std::string output;  // stdout and stderr, interleaved as printed
};

// Runs argv[0] (looked up in PATH) with `argv`, the current environment plus `extra_env`
// ("NAME=value", overriding), stdin from /dev/null. Waits for it. An error only when the program
// cannot be started; a non-zero exit is a CommandResult for the caller to judge.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& extra_env = {});

// As RunCommand, but a non-zero exit is an error that quotes the command and its output.
Result<std::string> RunChecked(const std::vector<std::string>& argv,
                               const std::vector<std::string>& extra_env = {});

}  // namespace kiln::bench
