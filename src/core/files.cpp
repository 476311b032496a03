#include "lara/files.h"

#include <filesystem>
#include <fstream>
#include <random>

namespace lara {

void write_file_atomically(const std::string& path, const std::string& bytes, ErrorKind kind) {
    std::filesystem::path temp(path);
    temp += ".tmp-" + std::to_string(std::random_device{}());
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(temp, ignored);
            throw Error(kind, path + ": cannot write the file");
        }
    }
    std::error_code error;
    std::filesystem::rename(temp, path, error);
    if (error) {
        std::filesystem::remove(temp, error);
        throw Error(kind, path + ": cannot move the file into place");
    }
}

}  // namespace lara
