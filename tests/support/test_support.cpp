#include "support/test_support.h"

#include <cstdlib>
#include <fstream>
#include <random>

namespace lara::test {

ModelConfig small_model() {
    ModelConfig model;
    model.window = 20;
    model.hidden = 32;
    model.latent = 4;
    return model;
}

ModelConfig tiny_model() {
    ModelConfig model;
    model.window = 5;
    model.n_metrics = 3;
    model.latent = 2;
    model.hidden = 8;
    return model;
}

std::filesystem::path data_dir() {
    if (const char* env = std::getenv("LARA_DATA_DIR"); env && *env)
        return std::filesystem::is_directory(env) ? std::filesystem::path(env) : std::filesystem::path();
    const auto beside = std::filesystem::path(LARA_SOURCE_DIR) / ".." / "shared" / "data";
    return std::filesystem::is_directory(beside) ? std::filesystem::canonical(beside) : std::filesystem::path();
}

TempDir::TempDir() {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() / ("lara-test-" + std::to_string(device()));
    std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
    const auto target = path_ / name;
    std::ofstream(target, std::ios::binary) << text;
    return target.string();
}

}  // namespace lara::test
