// lara/files.h: writing output files so that a reader never sees half of one.
#pragma once

#include <string>

#include "lara/error.h"

namespace lara {

//! Writes `bytes` to PATH.tmp-N beside PATH, syncs it to disk, then renames it over PATH: readers
//! see the old file or the whole new one, also after a crash (the folder is synced after the rename). A symbolic link is followed (the file
//! it points to is replaced); a device or pipe such as /dev/stdout is written to directly; a
//! directory is refused. A file that is replaced keeps its permission bits. On failure the
//! temporary file is removed and Error(ErrorKind::output) names PATH and the system's reason.
void write_file_atomically(const std::string& path, const std::string& bytes);

//! Removes the PATH.tmp-N files that write_file_atomically calls are writing at this moment, so
//! that a program killed by a signal leaves none behind: async-signal-safe, for a SIGINT or SIGTERM
//! handler (the `lara` program installs one). A write whose file it removed fails with
//! Error(ErrorKind::output); PATH is never touched.
void remove_temporary_files() noexcept;

//! Throws Error(ErrorKind::output) where write_file_atomically(PATH, …) would fail before writing
//! a byte: PATH is a directory, or the folder its file would go in (through any links) is missing
//! or not writable. A long run checks its output first, so that it does not end in a lost write.
void check_writable(const std::string& path);

}  // namespace lara
