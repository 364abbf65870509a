// The host API table the worker handed this library (plait/abi.h), for the SDK's calls
// back into the runtime (plait/api.h). Internal to the SDK.
#pragma once

#include "plait/abi.h"

namespace plait::internal {

// Null until plait_module_init runs (or when the host passed none).
const plait_host_api_t* HostApi();
void SetHostApi(const plait_host_api_t* host);

// The module table that plait_module_init returns (also for in-process tests).
const plait_module_t* ModuleTable();

}  // namespace plait::internal
