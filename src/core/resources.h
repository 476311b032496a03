// Wall-clock timing and peak resident memory, for progress lines, reports and benchmarks.
#pragma once

#include <chrono>
#include <cstdint>

namespace lara::core {

//! A monotonic stopwatch started on construction.
class Timer {
public:
    Timer() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
    double milliseconds() const { return seconds() * 1000.0; }

private:
    std::chrono::steady_clock::time_point start_;
};

//! Peak resident set size of this process so far, in bytes (VmHWM from /proc/self/status).
std::int64_t peak_rss_bytes();

//! Resets the peak so that a later peak_rss_bytes() measures one stage only (Linux ≥ 4.0);
//! returns false where the kernel does not allow it.
bool reset_peak_rss();

}  // namespace lara::core
