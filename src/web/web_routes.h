// The top-level routing of kilnd's one listener: /kiln/v1/... to the web API and the connect
// endpoint, /console and /console/... to the console's assets, everything else (the EC2 Query
// API and KMS at "/") to `fallback`, unchanged.
//
// Thread-safety: the handlers returned may be called from many threads at once; the pointed-to
// objects must outlive them.
#pragma once

#include "http/http_server.h"
#include "web/connect.h"
#include "web/console_assets.h"
#include "web/web_api.h"

namespace kiln {

struct WebRoutes {
  WebApi* api = nullptr;
  const ConsoleAssets* assets = nullptr;
  const ConnectEndpoint* connect = nullptr;
  HttpHandler fallback;
};

HttpHandler MakeHttpRouter(WebRoutes routes);
// WebSocket upgrades: connect paths go to the endpoint; any other upgrade request is answered
// as the HTTP router answers it (the refusal).
UpgradeHandler MakeUpgradeRouter(WebRoutes routes);

}  // namespace kiln
