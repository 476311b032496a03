// lara/error.h: the one exception type the library throws.
#pragma once

#include <stdexcept>
#include <string>

namespace lara {

//! What kind of failure; the command line turns it into its exit code.
enum class ErrorKind {
    usage = 1,     // a bad option or configuration value
    data = 2,      // an input data or label file that cannot be used
    model = 3,     // a model file that is missing, corrupt, foreign or incompatible
    internal = 4,  // anything else
    output = 5,    // an output file that cannot be written (missing folder, permission, full disk)
};

//! Carries what went wrong and where (file:line:column, or the config field) in its message.
class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace lara
