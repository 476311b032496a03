// lara/files.h: writing output files so that a reader never sees half of one.
#pragma once

#include <string>

#include "lara/error.h"

namespace lara {

//! Writes `bytes` to PATH.tmp-N beside PATH, flushes, then renames it over PATH: readers see the
//! old file or the whole new one. On failure the temporary file is removed and Error(kind) names PATH.
void write_file_atomically(const std::string& path, const std::string& bytes, ErrorKind kind = ErrorKind::usage);

}  // namespace lara
