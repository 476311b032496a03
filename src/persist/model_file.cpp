#include "persist/model_file.h"

#include <cstring>

#include <zlib.h>

#include "core/read_file.h"
#include "lara/error.h"
#include "lara/files.h"

// Numbers are copied to and from the file as they lie in memory; the format is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the model file format is little-endian; this machine is not");

namespace lara::persist {
namespace {

constexpr char kMagic[8] = {'L', 'A', 'R', 'A', 'M', 'O', 'D', 'L'};

template <typename T>
void put(std::string& out, T value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

std::uint32_t crc32_of(const char* data, std::size_t size) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (size > 0) {  // zlib takes uInt lengths
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
        data += chunk;
        size -= chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

//! Bounds-checked reading of the envelope's body.
class Cursor {
public:
    Cursor(const std::string& bytes, std::size_t end, const std::string& path) : bytes_(bytes), end_(end), path_(path) {}
    template <typename T>
    T get(const char* what) {
        T value;
        std::memcpy(&value, take(sizeof(T), what), sizeof(T));
        return value;
    }
    const char* take(std::size_t n, const char* what) {
        if (n > end_ - pos_) throw Error(ErrorKind::model, path_ + ": model file ends inside its " + what);
        const char* at = bytes_.data() + pos_;
        pos_ += n;
        return at;
    }
    bool done() const { return pos_ == end_; }

private:
    const std::string& bytes_;
    std::size_t end_;
    std::size_t pos_ = 0;
    const std::string& path_;
};

}  // namespace

void write_model_file(const std::string& path, const ModelFile& file) {
    std::string out(kMagic, sizeof(kMagic));
    put<std::uint32_t>(out, file.version);
    // A path or name that is not UTF-8 (a Latin-1 file name) must not lose a finished training at
    // the last step: such bytes are written as U+FFFD.
    const std::string meta = file.meta.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    put<std::uint64_t>(out, meta.size());
    out += meta;
    put<std::uint32_t>(out, static_cast<std::uint32_t>(file.sections.size()));
    for (const auto& [name, data] : file.sections) {
        put<std::uint32_t>(out, static_cast<std::uint32_t>(name.size()));
        out += name;
        put<std::uint64_t>(out, data.size());
        out.append(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float));
    }
    put<std::uint32_t>(out, crc32_of(out.data(), out.size()));

    write_file_atomically(path, out);
}

ModelFile read_model_file(const std::string& path) {
    // Reading stops early at a foreign start (say /dev/zero), which is refused below.
    const std::string bytes = core::read_whole_file(path, ErrorKind::model, std::string_view(kMagic, sizeof(kMagic)));

    if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
        throw Error(ErrorKind::model, path + ": not a lara model file (bad magic; expected \"LARAMODL\")");
    if (bytes.size() < sizeof(kMagic) + 4 + 4)
        throw Error(ErrorKind::model, path + ": model file is truncated");
    const std::size_t body_end = bytes.size() - 4;
    std::uint32_t stored_crc;
    std::memcpy(&stored_crc, bytes.data() + body_end, 4);
    if (crc32_of(bytes.data(), body_end) != stored_crc)
        throw Error(ErrorKind::model, path + ": checksum mismatch (the model file is corrupt or truncated)");

    Cursor cursor(bytes, body_end, path);
    cursor.take(sizeof(kMagic), "magic");
    ModelFile file;
    file.version = cursor.get<std::uint32_t>("version");
    if (file.version < kOldestReadableVersion || file.version > kFormatVersion)
        throw Error(ErrorKind::model, path + ": model format version " + std::to_string(file.version) +
                                          " is not supported (this lara reads versions " +
                                          std::to_string(kOldestReadableVersion) + " to " +
                                          std::to_string(kFormatVersion) + ")");
    const auto meta_size = cursor.get<std::uint64_t>("metadata length");
    const char* meta = cursor.take(meta_size, "metadata");
    // lara nests a few levels; a hostile file nested 100,000 deep would overflow the stack when
    // the metadata is copied (parsing itself does not recurse).
    constexpr int kMaxDepth = 64;
    const auto shallow = [&path](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxDepth) throw Error(ErrorKind::model, path + ": model metadata is nested more than " + std::to_string(kMaxDepth) + " levels deep");
        return true;
    };
    try {
        file.meta = nlohmann::json::parse(meta, meta + meta_size, shallow);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::model, path + ": model metadata is not valid JSON: " + e.what());
    }
    const auto n_sections = cursor.get<std::uint32_t>("section count");
    for (std::uint32_t i = 0; i < n_sections; ++i) {
        const auto name_size = cursor.get<std::uint32_t>("section name length");
        const char* name = cursor.take(name_size, "section name");
        const auto count = cursor.get<std::uint64_t>("section length");
        if (count > (body_end / sizeof(float)))
            throw Error(ErrorKind::model, path + ": the length of section " + core::quoted(std::string_view(name, name_size)) + " is impossible");
        const char* data = cursor.take(count * sizeof(float), "section data");
        std::vector<float> values(count);
        if (count > 0) std::memcpy(values.data(), data, count * sizeof(float));  // an empty vector's data() may be null
        if (!file.sections.emplace(std::string(name, name_size), std::move(values)).second)
            throw Error(ErrorKind::model, path + ": section " + core::quoted(std::string_view(name, name_size)) + " appears twice");
    }
    if (!cursor.done()) throw Error(ErrorKind::model, path + ": unexpected bytes after the last section");
    return file;
}

}  // namespace lara::persist
