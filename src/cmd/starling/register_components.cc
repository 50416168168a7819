#include "cmd/starling/register_components.h"

namespace starling::cmd {

base::Status RegisterAllComponents(component::Registry& registry) {
  // Each component adds one line here: RETURN_IF_ERROR(registry.Register(...));
  (void)registry;
  return base::Status::Ok();
}

}  // namespace starling::cmd
