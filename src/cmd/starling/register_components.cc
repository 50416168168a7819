#include "cmd/starling/register_components.h"

#include "components/discovery/dns/discovery_dns.h"
#include "components/discovery/file/discovery_file.h"
#include "components/discovery/http/discovery_http.h"
#include "components/discovery/relabel/discovery_relabel.h"
#include "components/local/file/local_file.h"
#include "components/prometheus/relabel/prometheus_relabel.h"
#include "components/prometheus/remote_write/remote_write.h"
#include "components/prometheus/scrape/prometheus_scrape.h"

namespace starling::cmd {

base::Status RegisterAllComponents(component::Registry& registry) {
  // Each component adds one line here: RETURN_IF_ERROR(registry.Register(...));
  RETURN_IF_ERROR(registry.Register(components::DiscoveryDnsRegistration()));
  RETURN_IF_ERROR(registry.Register(components::DiscoveryFileRegistration()));
  RETURN_IF_ERROR(registry.Register(components::DiscoveryHttpRegistration()));
  RETURN_IF_ERROR(registry.Register(components::DiscoveryRelabelRegistration()));
  RETURN_IF_ERROR(registry.Register(components::LocalFileRegistration()));
  RETURN_IF_ERROR(registry.Register(components::PrometheusRelabelRegistration()));
  RETURN_IF_ERROR(registry.Register(components::PrometheusRemoteWriteRegistration()));
  RETURN_IF_ERROR(registry.Register(components::PrometheusScrapeRegistration()));
  return base::Status::Ok();
}

}  // namespace starling::cmd
