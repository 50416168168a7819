#include "components/common/relabel_rules.h"

#include <string>
#include <utility>

namespace starling::components {

namespace relabel = model::relabel;

void DecodeRelabelRule(component::ArgDecoder& d, relabel::Config* out) {
  *out = relabel::Config{};
  bool ok = true;
  d.Optional("source_labels", &out->source_labels);
  d.Optional("separator", &out->separator);
  std::string regex;
  if (d.Optional("regex", &regex)) {
    base::Result<relabel::Regex> re = relabel::Regex::Compile(regex);
    if (re.ok()) {
      out->regex = *re;
    } else {
      d.AddError("regex", re.error().message());
      ok = false;
    }
  }
  d.Optional("modulus", &out->modulus);
  d.Optional("target_label", &out->target_label);
  d.Optional("replacement", &out->replacement);
  std::string action;
  if (d.Optional("action", &action)) {
    base::Result<relabel::Action> a = relabel::ParseAction(action);
    // Alloy's action names are case-sensitive, unlike Prometheus's YAML.
    if (!a.ok() || relabel::ActionName(*a) != action) {
      d.AddError("action", "unrecognized action type \"" + action + "\"");
      ok = false;
    } else {
      out->action = *a;
    }
  }
  if (!ok) return;
  base::Status s = relabel::Validate(*out);
  // An empty name is never an attribute, so the error lands on the rule block.
  if (!s.ok()) d.AddError("", s.message());
}

void DecodeRelabelRuleBlocks(component::ArgDecoder& d, std::vector<relabel::Config>* out) {
  d.Blocks<relabel::Config>("rule", out, DecodeRelabelRule);
}

syntax::Value RelabelRulesToValue(std::shared_ptr<const RelabelRules> rules) {
  return component::MakeHandle<const RelabelRules>(kRelabelRulesType, std::move(rules));
}

std::shared_ptr<const RelabelRules> RelabelRulesFromValue(const syntax::Value& v) {
  return component::HandleFromValue<const RelabelRules>(v);
}

}  // namespace starling::components
