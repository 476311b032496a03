#include "api/experiment_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lara/error.h"

namespace lara {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const char* what, int error_number) {
    throw Error(ErrorKind::output, path.string() + ": cannot " + what + " (" + std::strerror(error_number) + ")");
}

int open_to_lock(const std::filesystem::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0666);
    if (fd < 0) fail(path, "open it to lock it", errno);
    return fd;
}

enum class Locked { yes, held_by_another, unsupported };

//! flock(2) that waits through signals. Some file systems have no flock (NFS without its lock
//! daemon, some FUSE and CIFS mounts): that is `unsupported`, not an error.
Locked lock(int fd, int operation, const std::filesystem::path& path) {
    while (::flock(fd, operation) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK && (operation & LOCK_NB)) return Locked::held_by_another;
        if (errno == ENOLCK || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) return Locked::unsupported;
        fail(path, "lock it", errno);
    }
    return Locked::yes;
}

}  // namespace

ExperimentLock::ExperimentLock(const std::filesystem::path& folder) : folder_path_(folder) {
    try {
        turn_ = open_to_lock(folder / ".lock", O_RDWR | O_CREAT);
        if (lock(turn_, LOCK_EX, folder / ".lock") == Locked::unsupported) {
            unsupported_ = std::strerror(errno);
            release();
            return;
        }
        folder_ = open_to_lock(folder, O_RDONLY | O_DIRECTORY);
        // Every run takes its shared lock during its turn, so no other can take one between the two calls.
        const auto exclusive = lock(folder_, LOCK_EX | LOCK_NB, folder);
        others_running_ = exclusive == Locked::held_by_another;
        if (exclusive == Locked::unsupported || lock(folder_, LOCK_SH, folder) == Locked::unsupported) {
            unsupported_ = std::strerror(errno);
            release();
        }
    } catch (...) {
        release();
        throw;
    }
}

void ExperimentLock::end_turn() {
    if (turn_ < 0) return;
    ::close(turn_);  // closing drops the lock
    turn_ = -1;
}

void ExperimentLock::take_turn() {
    if (folder_ < 0 || turn_ >= 0) return;  // not locked (unsupported), or the turn is already this run's
    turn_ = open_to_lock(folder_path_ / ".lock", O_RDWR | O_CREAT);
    if (lock(turn_, LOCK_EX, folder_path_ / ".lock") != Locked::yes) end_turn();
}

void ExperimentLock::release() {
    // The folder first: a run that wakes with the turn then no longer sees this one as running.
    if (folder_ >= 0) ::close(folder_);
    folder_ = -1;
    end_turn();
}

ExperimentLock::~ExperimentLock() { release(); }

}  // namespace lara
