// What a process the runtime starts does between clone/fork and exec, shared by an instance's
// init (container.cc) and commands run inside it (exec.cc). Async-signal-safe: only system
// calls, as the caller is a child of a multithreaded process.
#pragma once

namespace kiln {

// Default dispositions for every signal (an ignored signal would stay ignored across exec)
// and an empty signal mask. kilnd blocks SIGTERM and SIGINT in every thread to take them on
// one; a child inherits that mask through exec, so without this an init that does not set its
// own (tini, a shell) would never see the SIGTERM that stops its instance.
void ResetSignalsForExec();

}  // namespace kiln
