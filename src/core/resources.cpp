#include "core/resources.h"

#include <fstream>
#include <string>

namespace lara::core {

std::int64_t peak_rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    return 0;
}

bool reset_peak_rss() {
    // Writing "5" to clear_refs resets VmHWM to the current RSS.
    std::ofstream clear("/proc/self/clear_refs");
    return static_cast<bool>(clear << "5");
}

}  // namespace lara::core
