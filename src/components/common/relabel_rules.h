#pragma once

// Relabel `rule` blocks as Alloy spells them (source_labels, separator, regex, modulus,
// target_label, replacement, action; Prometheus's defaults), and the `rules` export: the
// decoded rules as a capsule other components (prometheus.relabel, scrapes) can take.

#include <memory>
#include <vector>

#include "component/component.h"
#include "model/relabel/relabel.h"
#include "syntax/value.h"

namespace starling::components {

// Immutable once built; shared between the exporting and the reading components.
struct RelabelRules {
  std::vector<model::relabel::Config> rules;
};

// The capsule type name of the `rules` export.
inline constexpr char kRelabelRulesType[] = "relabel.Rules";

// Decodes one `rule` block into *out. A bad regex or action is reported at its attribute;
// a rule that fails validation (e.g. replace without target_label) at the block.
void DecodeRelabelRule(component::ArgDecoder& d, model::relabel::Config* out);

// Decodes every `rule` block of the body into *out.
void DecodeRelabelRuleBlocks(component::ArgDecoder& d, std::vector<model::relabel::Config>* out);

syntax::Value RelabelRulesToValue(std::shared_ptr<const RelabelRules> rules);
// The rules inside a capsule made by RelabelRulesToValue; null for anything else.
std::shared_ptr<const RelabelRules> RelabelRulesFromValue(const syntax::Value& v);

}  // namespace starling::components
