// Runs of `lara experiment` into one folder may overlap (a data set split over several runs with
// other --entities), but only with the same settings: otherwise their entity files would mix.
#pragma once

#include <filesystem>
#include <string>

namespace lara {

//! A run's claim on its folder. Each run holds a shared lock on the folder itself while it runs,
//! and checks or writes experiment.json holding an exclusive lock on the folder's .lock file (its
//! turn), so that runs starting together take turns and each knows whether another is running.
//! Locks are flock(2)s: the system drops them when a run ends, killed or not. On NFS they may
//! keep apart only the runs of one host; where the file system has no flock, runs are not kept
//! apart at all (unsupported() says why, and the caller warns).
class ExperimentLock {
public:
    //! Waits for this run's turn. Throws Error(ErrorKind::output) where the folder cannot be locked.
    explicit ExperimentLock(const std::filesystem::path& folder);
    ExperimentLock(const ExperimentLock&) = delete;
    ExperimentLock& operator=(const ExperimentLock&) = delete;
    ~ExperimentLock();

    //! Whether another run held the folder when this one took its turn.
    bool others_running() const { return others_running_; }
    //! Why the folder could not be locked, or "" where it is.
    const std::string& unsupported() const { return unsupported_; }
    //! Lets the next run take its turn; this one still holds the folder until it is destroyed.
    void end_turn();
    //! Waits for a turn again (to rebuild what every run's entity files make), held until
    //! end_turn() or destruction. Nothing where the folder cannot be locked.
    void take_turn();

private:
    void release();
    std::filesystem::path folder_path_;
    int turn_ = -1, folder_ = -1;  // file descriptors of .lock and of the folder
    bool others_running_ = false;
    std::string unsupported_;
};

}  // namespace lara
