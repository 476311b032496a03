// Helpers shared by the tests: where the benchmark data is, and scratch directories.
#pragma once

#include <filesystem>
#include <string>

#include "lara/config.h"

namespace lara::test {

//! The small mlp that detector tests train in seconds: window 20, hidden 32, latent 4.
ModelConfig small_model();

//! The smallest useful mlp, for exact checks of one forward pass: window 5, 3 metrics, latent 2,
//! hidden 8.
ModelConfig tiny_model();

//! The benchmark data folder: $LARA_DATA_DIR, else ../shared/data beside the source tree.
//! Empty when it does not exist; tests that need it call LARA_REQUIRE_DATA first.
std::filesystem::path data_dir();

//! A fresh directory under the system temp dir, removed when the object goes away.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    //! Writes `text` to a file in this directory and returns its path.
    std::string write(const std::string& name, const std::string& text) const;

private:
    std::filesystem::path path_;
};

}  // namespace lara::test

//! Skips the current test, with a message, when the benchmark data folder is absent.
#define LARA_REQUIRE_DATA()                                                                   \
    do {                                                                                      \
        if (::lara::test::data_dir().empty())                                                 \
            GTEST_SKIP() << "benchmark data not found (set LARA_DATA_DIR or add ../shared/data)"; \
    } while (0)
