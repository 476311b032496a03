#include "lara/lara.h"

// Set by CMake on this file only, so that a new commit recompiles one file.
#ifndef LARA_VERSION
#error "LARA_VERSION is set by CMakeLists.txt"
#endif

namespace lara {

const char* version() { return LARA_VERSION " (git " LARA_COMMIT ")"; }

}  // namespace lara
