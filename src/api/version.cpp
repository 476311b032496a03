#include "lara/lara.h"

#include "lara_commit.h"  // LARA_COMMIT, written at every build (cmake/write_commit.cmake)

// LARA_VERSION is set by CMake on this file only.
#ifndef LARA_VERSION
#error "LARA_VERSION is set by CMakeLists.txt"
#endif

namespace lara {

const char* version() { return LARA_VERSION " (git " LARA_COMMIT ")"; }

}  // namespace lara
