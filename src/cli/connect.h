// connect: an interactive shell inside a running instance over kilnd's WebSocket endpoint
// GET /kiln/v1/instances/<id>/connect?rows=R&cols=C (issue 7 contract, "Connect"), the upgrade
// request signed with SigV4 in the Authorization header.
//
// When stdin is a terminal it is put in raw mode for the session (restored on every way out)
// and SIGWINCH sends a resize frame; otherwise stdin is piped through and, at its end, the shell
// is sent end-of-file (^D) so that `echo 'echo hi; exit 3' | kiln connect i-...` prints hi and
// exits 3. Binary frames carry terminal bytes both ways; the server's {"type":"exit","code":N}
// gives the exit status.
//
// Errors: refusals before the upgrade become their EC2 code (AuthFailure,
// InvalidInstanceID.NotFound, IncorrectInstanceState); a connection that ends without an exit
// frame is Unavailable.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "cli/output.h"

namespace kiln::cli {

// The shell's exit status.
Result<int> Connect(Context& ctx, const std::string& instance_id);

// The refusal a non-101 answer to the upgrade means (its JSON body's code and message when
// there is one).
Status ConnectRefusal(int http_status, const std::string& body);

// The exit status a text frame from the server carries ({"type": "exit", "code": N}); nullopt
// for any other text (other types, malformed JSON). Never throws.
std::optional<int> ParseExitFrame(std::string_view text);

}  // namespace kiln::cli
