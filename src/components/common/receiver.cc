#include "components/common/receiver.h"

#include <utility>

namespace starling::components {

syntax::Value ReceiverToValue(std::shared_ptr<storage::Appendable> receiver) {
  return component::MakeHandle<storage::Appendable>(kReceiverType, std::move(receiver));
}

std::shared_ptr<storage::Appendable> ReceiverFromValue(const syntax::Value& v) {
  return component::HandleFromValue<storage::Appendable>(v);
}

void DecodeForwardTo(component::ArgDecoder& d, std::shared_ptr<storage::Fanout>* out) {
  std::vector<std::shared_ptr<storage::Appendable>> receivers;
  d.Required("forward_to", &receivers);
  *out = std::make_shared<storage::Fanout>(std::move(receivers));
}

storage::FanoutMetrics FanoutMetricsOf(base::MetricsRegistry& registry, base::OwnedSeries* owner,
                                       const std::string& component_id) {
  const char* forwarded = "agent_prometheus_forwarded_samples_total";
  const char* forwarded_help = "Total number of samples sent to downstream components.";
  const char* latency = "agent_prometheus_fanout_latency";
  const char* latency_help = "Write latency for sending to direct and indirect components";
  if (owner != nullptr) {
    return {&owner->AddCounter(forwarded, forwarded_help, {"component_id"}, {component_id}),
            &owner->AddHistogram(latency, latency_help, {"component_id"}, base::DefaultBuckets(),
                                 {component_id})};
  }
  return {
      &registry.AddCounterFamily(forwarded, forwarded_help, {"component_id"})
           .WithLabels({component_id}),
      &registry.AddHistogramFamily(latency, latency_help, {"component_id"}, base::DefaultBuckets())
           .WithLabels({component_id})};
}

}  // namespace starling::components
