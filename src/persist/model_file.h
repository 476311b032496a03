// The model file envelope: magic, format version, JSON metadata, named float sections, CRC-32,
// written atomically. It knows nothing of VAEs; docs/file-format.md describes the bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lara::persist {

//! Version 1: base model. Version 2: adds the adjusting maps of retraining (absent maps = identity).
//! Version 3: the model config names the mlp's activation (absent = relu). A version-2 reader would
//! take a version-3 softplus model for a ReLU one, hence the new number.
constexpr std::uint32_t kFormatVersion = 3;
constexpr std::uint32_t kOldestReadableVersion = 1;

struct ModelFile {
    std::uint32_t version = kFormatVersion;
    nlohmann::json meta;                                  // hyper-parameters, normaliser, threshold, ...
    std::map<std::string, std::vector<float>> sections;  // weights and other arrays, by name
};

//! Writes to PATH.tmp-XXXX in the same directory, flushes, then renames over PATH, so a reader
//! sees either the old file or the whole new one. Throws Error(model) on I/O failure.
void write_model_file(const std::string& path, const ModelFile& file);

//! Checks magic, then checksum, then version, and parses with bounds checks; a truncated,
//! corrupted or foreign file throws Error(model) naming the file and what was expected.
ModelFile read_model_file(const std::string& path);

}  // namespace lara::persist
