#pragma once

// The `receiver` export of prometheus.relabel and prometheus.remote_write, and `forward_to`
// lists of them: a storage::Appendable wrapped in a River capsule.

#include <memory>
#include <string>
#include <vector>

#include "base/metrics.h"
#include "base/owned_series.h"
#include "component/component.h"
#include "storage/storage.h"
#include "syntax/value.h"

namespace starling::components {

// The capsule type name, as Alloy spells it.
inline constexpr char kReceiverType[] = "storage.Appendable";

syntax::Value ReceiverToValue(std::shared_ptr<storage::Appendable> receiver);
// The receiver inside a capsule made by ReceiverToValue; null for anything else.
std::shared_ptr<storage::Appendable> ReceiverFromValue(const syntax::Value& v);

// Decodes the required `forward_to` attribute (a list of receivers) into one appendable that
// fans out to all of them (storage::Fanout). Elements that are not receivers are reported at
// the attribute.
void DecodeForwardTo(component::ArgDecoder& d, std::shared_ptr<storage::Fanout>* out);

// The Agent's metrics of a component that forwards samples (labelled with its component_id):
// agent_prometheus_forwarded_samples_total and the histogram agent_prometheus_fanout_latency.
// Registered through `owner` when it is not null, so that they leave with the component;
// otherwise they stay in the registry for good.
storage::FanoutMetrics FanoutMetricsOf(base::MetricsRegistry& registry, base::OwnedSeries* owner,
                                       const std::string& component_id);

}  // namespace starling::components
