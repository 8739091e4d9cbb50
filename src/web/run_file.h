// kilnd.json: how a local `kiln` finds the kilnd that `make run` started. Once it listens,
// kilnd writes $KILN_RUN_DIR/kilnd.json (KILN_RUN_DIR defaults to /run/kiln):
//   {"endpoint": "http://127.0.0.1:8787", "dataDir": "/abs/DIR", "pid": 1234}
// atomically (a temporary file renamed over it), mode 0644. On a clean exit it removes the
// file, but only while it still names its own pid (another kilnd may have started since).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"

namespace kiln {

// $KILN_RUN_DIR, or /run/kiln.
std::string RunDir();

// "http://HOST:PORT" for a listen address: a wildcard (0.0.0.0, ::) becomes loopback, an IPv6
// address goes in brackets.
std::string EndpointUrl(const std::string& host, uint16_t port);

// Writes DIR/kilnd.json, creating DIR (0755) if needed. IoError if it cannot.
Status WriteRunFile(const std::string& dir, const std::string& endpoint,
                    const std::string& data_dir, pid_t pid);
// Removes DIR/kilnd.json if it names `pid`; OK when it is absent or names another pid.
Status RemoveRunFile(const std::string& dir, pid_t pid);

}  // namespace kiln
