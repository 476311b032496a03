// Reading a whole input file, with the errors every reader gives alike (internal to the library).
#pragma once

#include <string>

#include "lara/error.h"

namespace lara::core {

//! The bytes of PATH. A directory, a file that cannot be opened or read throws Error(kind) naming
//! PATH and the reason.
std::string read_whole_file(const std::string& path, ErrorKind kind);

}  // namespace lara::core
