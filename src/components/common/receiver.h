#pragma once

// The `receiver` export of prometheus.relabel and prometheus.remote_write, and `forward_to`
// lists of them: a storage::Appendable wrapped in a River capsule.

#include <memory>
#include <vector>

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

}  // namespace starling::components
