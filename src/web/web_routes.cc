#include "web/web_routes.h"

#include "web/web_util.h"

namespace kiln {

HttpHandler MakeHttpRouter(WebRoutes routes) {
  return [routes](const HttpRequest& request) -> HttpResponse {
    const std::string& path = request.path;
    if (path.starts_with("/kiln/v1/")) {
      if (ConnectEndpoint::InstanceIdOf(path)) return ConnectEndpoint::WithoutUpgrade(request);
      return routes.api->Handle(request);
    }
    if (ConsoleAssets::Serves(path)) return routes.assets->Handle(request);
    return routes.fallback(request);
  };
}

UpgradeHandler MakeUpgradeRouter(WebRoutes routes) {
  HttpHandler http = MakeHttpRouter(routes);
  return [routes, http](const HttpRequest& request) -> UpgradeDecision {
    if (ConnectEndpoint::InstanceIdOf(request.path)) return routes.connect->Upgrade(request);
    UpgradeDecision refused;
    refused.refusal = http(request);
    return refused;
  };
}

}  // namespace kiln
