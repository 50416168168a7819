#pragma once

// discovery.relabel: applies relabel `rule` blocks to a list of targets, exporting the
// survivors as `output` and the rules themselves as `rules`.

#include <vector>

#include "component/component.h"
#include "components/common/targets.h"
#include "model/relabel/relabel.h"

namespace starling::components {

struct DiscoveryRelabelArgs {
  std::vector<Target> targets;
  std::vector<model::relabel::Config> rules;
};

void DecodeDiscoveryRelabelArgs(component::ArgDecoder& d, DiscoveryRelabelArgs* args);

// Relabels each target in order; dropped targets and targets left without labels are
// omitted.
std::vector<Target> RelabelTargets(const std::vector<Target>& targets,
                                   const std::vector<model::relabel::Config>& rules);

component::Registration DiscoveryRelabelRegistration();

}  // namespace starling::components
