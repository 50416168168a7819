#pragma once

// The components the starling binary knows, registered explicitly (no static initializers),
// so the set of components is visible in one place.

#include "base/status.h"
#include "component/component.h"

namespace starling::cmd {

// Adds every built-in component to `registry`. Fails if a name is registered twice.
base::Status RegisterAllComponents(component::Registry& registry);

}  // namespace starling::cmd
