// Runs external programs (mke2fs, tar, restic) and captures what they print.
// For tools kiln drives as a whole (making a file system, the benchmark's peers); instance
// processes are the runtime's own business.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace kiln {

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

}  // namespace kiln
