#include "lara/files.h"
#include "core/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

namespace lara {
namespace fs = std::filesystem;
namespace {

//! The temporary files being written, where a signal handler can find them: fixed slots of plain
//! characters, since a handler may neither allocate nor lock. A path that finds no free slot (more
//! than 64 writes at once) is written all the same, only not removed on a signal. Each change of
//! a slot bumps its generation (a sequence lock), so that a handler that copied a path while
//! another thread replaced it sees that and does not remove a mix of two paths.
struct PendingFile {
    std::atomic<bool> taken{false};
    std::atomic<std::uint64_t> generation{0};  // odd while the path is being written or cleared
    char path[4096];
};
std::array<PendingFile, 64> pending_files;

class PendingRegistration {
public:
    explicit PendingRegistration(const std::string& path) {
        if (path.size() >= sizeof(PendingFile::path)) return;
        for (auto& slot : pending_files) {
            if (bool free = false; slot.taken.compare_exchange_strong(free, true)) {
                slot.generation.fetch_add(1);  // odd: being written
                std::memcpy(slot.path, path.c_str(), path.size() + 1);
                slot.generation.fetch_add(1);  // even: ready
                slot_ = &slot;
                return;
            }
        }
    }
    PendingRegistration(const PendingRegistration&) = delete;
    PendingRegistration& operator=(const PendingRegistration&) = delete;
    ~PendingRegistration() {
        if (!slot_) return;
        slot_->generation.fetch_add(1);  // odd: no longer a pending file
        slot_->path[0] = '\0';
        slot_->generation.fetch_add(1);
        slot_->taken.store(false);
    }

private:
    PendingFile* slot_ = nullptr;
};

//! Writes all of `bytes` to `fd`; false (errno set) on failure.
bool write_all(int fd, const std::string& bytes) {
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const auto n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return true;
}

[[noreturn]] void fail(const std::string& path, const std::string& what, int error_number) {
    throw Error(ErrorKind::output, path + ": cannot " + what + " (" + std::strerror(error_number) + ")");
}

//! A device or pipe (/dev/stdout, /dev/null, a FIFO) has no file to leave half-written: the bytes
//! go straight to it, and the node itself stays.
void write_to_stream(const std::string& path, const std::string& bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail(path, "open it for writing", errno);
    const bool ok = write_all(fd, bytes);
    const int error_number = errno;
    ::close(fd);
    if (!ok) fail(path, "write to it", error_number);
}

//! Where the bytes for PATH go: the file it names, through any symbolic links (even to a file not
//! there yet, so that the link stays), or nothing for a device or pipe, which is written directly.
std::optional<fs::path> file_target(const std::string& path) {
    if (path.empty()) throw Error(ErrorKind::output, "an output path is empty");
    std::error_code error;  // a path that does not exist yet is the usual case, not an error
    const auto status = fs::status(path, error);  // of what the path leads to, through any links
    if (fs::is_directory(status)) throw Error(ErrorKind::output, path + ": is a directory, not a file");
    // /dev/stdout is a link to /proc/self/fd/1, whose "target" may be "pipe:[…]": open it as it is.
    if (fs::exists(status) && !fs::is_regular_file(status)) return std::nullopt;
    fs::path target = path;
    for (int hops = 0; fs::is_symlink(fs::symlink_status(target, error)); ++hops) {
        const auto next = fs::read_symlink(target, error);
        if (error || hops == 40) fail(path, "follow the link", error ? error.value() : ELOOP);
        target = next.is_absolute() ? next : target.parent_path() / next;
    }
    return target;
}

//! The folder a file goes in ("." for a bare name).
fs::path folder_of(const fs::path& file) { return file.parent_path().empty() ? fs::path(".") : file.parent_path(); }

}  // namespace

void check_writable(const std::string& path) {
    const auto target = file_target(path);
    if (!target) return;
    const auto folder = folder_of(*target);
    std::error_code error;
    if (!fs::is_directory(folder, error))
        throw Error(ErrorKind::output, path + ": the folder " + folder.string() + " does not exist" +
                                           (error && error != std::errc::no_such_file_or_directory ? " or cannot be read (" + error.message() + ")" : ""));
    if (::access(folder.c_str(), W_OK) != 0) fail(path, "create a file in " + folder.string(), errno);
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
    const auto resolved = file_target(path);
    if (!resolved) return write_to_stream(path, bytes);
    const fs::path& target = *resolved;
    std::error_code error;

    fs::path temp = target;
    temp += ".tmp-" + std::to_string(std::random_device{}());
    // Registered before it exists: a signal between the open and the registration would leave it behind.
    const PendingRegistration registration(temp.string());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) fail(path, "create a file beside it", errno);
    // A replaced file keeps its permissions (say 0600 on a private model), not the umask's.
    if (struct stat existing {}; ::stat(target.c_str(), &existing) == 0) ::fchmod(fd, existing.st_mode & 07777);
    // fsync before the rename: after a crash the name points at the old bytes or all of the new.
    const bool ok = write_all(fd, bytes) && ::fsync(fd) == 0;
    const int error_number = errno;
    if (::close(fd) != 0 || !ok) {
        fs::remove(temp, error);
        fail(path, "write the file", ok ? errno : error_number);
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) {
        const int rename_error = errno;
        fs::remove(temp, error);
        fail(path, "move the file into place", rename_error);
    }
    // And the folder, so that the rename itself survives a crash (best effort: the file is whole).
    const auto folder = folder_of(target);
    if (const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

void remove_temporary_files() noexcept {
    for (auto& slot : pending_files) {
        const auto before = slot.generation.load();
        if ((before & 1) != 0) continue;
        char path[sizeof(PendingFile::path)];
        std::memcpy(path, slot.path, sizeof path);
        path[sizeof path - 1] = '\0';
        if (slot.generation.load() == before && path[0] != '\0') ::unlink(path);
    }
}

namespace core {

std::string read_whole_file(const std::string& path, ErrorKind kind, std::string_view starts_with) {
    std::error_code ignored;
    if (fs::is_directory(path, ignored)) throw Error(kind, path + ": is a directory, cannot open it as a file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(kind, path + ": cannot open: " + std::strerror(errno));
    std::string bytes;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        bytes.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (bytes.size() >= starts_with.size() && bytes.compare(0, starts_with.size(), starts_with) != 0) break;
    }
    if (in.bad()) throw Error(kind, path + ": cannot read: " + std::strerror(errno));
    return bytes;
}

void drop_byte_order_mark(std::string& text) {
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
}

std::string read_text_file(const std::string& path, ErrorKind kind) {
    std::string text = read_whole_file(path, kind);
    drop_byte_order_mark(text);
    return text;
}

std::string quoted(std::string_view text) {
    constexpr std::size_t max_shown = 40;
    std::string out = "\"";
    std::size_t i = 0;
    while (i < text.size() && i < max_shown) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
        const bool character = length > 1 && invalid_utf8_at(text.substr(i, length)) == std::string_view::npos;
        // C1 controls (U+0080–U+009F) steer a terminal as C0 ones do: escaped like them.
        const bool control = length == 1 ? lead < 0x20 || lead == 0x7f : character && lead == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
        if (character && i + length > max_shown) break;  // not cut in the middle of a character
        if ((length == 1 || character) && !control) {
            out.append(text.substr(i, length));
            i += length;
            continue;
        }
        const std::size_t bytes = control ? length : 1;  // a byte that starts no character is escaped alone
        for (std::size_t k = 0; k < bytes; ++k) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(text[i + k]));
            out += escaped;
        }
        i += bytes;
    }
    return out + (i < text.size() ? "...\"" : "\"");
}

std::size_t code_points(std::string_view text) {
    std::size_t count = 0;
    for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a continuation byte
    return count;
}

std::size_t column(std::string_view line, std::size_t offset) { return code_points(line.substr(0, offset)) + 1; }

std::size_t invalid_utf8_at(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
        const unsigned char lead = byte(i);
        std::size_t length = 0;
        std::uint32_t code = 0, smallest = 0;  // smallest: below it the sequence is overlong
        if (lead < 0x80) length = 1, code = lead;
        else if ((lead & 0xE0) == 0xC0) length = 2, code = lead & 0x1Fu, smallest = 0x80;
        else if ((lead & 0xF0) == 0xE0) length = 3, code = lead & 0x0Fu, smallest = 0x800;
        else if ((lead & 0xF8) == 0xF0) length = 4, code = lead & 0x07u, smallest = 0x10000;
        else return i;
        if (i + length > text.size()) return i;
        for (std::size_t k = 1; k < length; ++k) {
            if ((byte(i + k) & 0xC0) != 0x80) return i;
            code = (code << 6) | (byte(i + k) & 0x3Fu);
        }
        if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
        i += length;
    }
    return std::string_view::npos;
}

}  // namespace core
}  // namespace lara
