// The plait C++ SDK: everything a user library includes.
//
//   #include <plait/plait.h>
//
//   double scale(double a, double x) { return a * x; }
//   PLAIT_REMOTE(scale);
//
// Build the library with the CMake helper (find_package(plait CONFIG) and
// plait_add_library(mylib SOURCES ...)); the worker dlopen()s it and calls what it
// registered. See docs/cross-language.md and the example in examples/cpp/.
#pragma once

#include "plait/abi.h"
#include "plait/api.h"
#include "plait/codec/decoder.h"
#include "plait/codec/encoder.h"
#include "plait/codec/status.h"
#include "plait/codec/value.h"
#include "plait/convert.h"
#include "plait/registry.h"
#include "plait/version.h"
#include "plait/tensor.h"

// Arrow parameters and results, when the library is built against Arrow C++ (the helper
// defines PLAIT_WITH_ARROW when it links pyarrow's libarrow).
#if defined(PLAIT_WITH_ARROW)
#include "plait/arrow.h"
#endif
