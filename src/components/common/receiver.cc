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

}  // namespace starling::components
