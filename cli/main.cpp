// lara: the command line. Only a client of the public headers; every subcommand is in its own file.
#include <iostream>
#include <new>
#include <string>

#include "common.h"

int main(int argc, char** argv) {
    CLI::App app{"lara: anomaly detection on multivariate time series, retrained in milliseconds when the normal pattern changes"};
    app.set_version_flag("--version", std::string("lara ") + lara::version());
    app.require_subcommand(1);
    lara::cli::add_train(app);
    lara::cli::add_score(app);
    lara::cli::add_info(app);
    lara::cli::add_retrain(app);
    lara::cli::add_evaluate(app);
    lara::cli::add_experiment(app);
    lara::cli::add_compare(app);
    lara::cli::add_demo(app);
    lara::cli::add_bench(app);
    int code = 0;
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {  // also --help and --version, which print and succeed
        code = app.exit(e) == 0 ? 0 : static_cast<int>(lara::ErrorKind::usage);
    } catch (const lara::Error& e) {
        std::cerr << "lara: " << e.what() << "\n";
        code = static_cast<int>(e.kind());
    } catch (const std::bad_alloc&) {
        std::cerr << "lara: out of memory: use smaller sizes (--samples, --restored, --hidden, --batch) or fewer rows\n";
        code = static_cast<int>(lara::ErrorKind::internal);
    } catch (const std::exception& e) {
        // LibTorch appends a stack trace of 30 lines to its messages; the first line says what failed
        // (an allocation of too many bytes, say).
        const std::string what = e.what();
        std::cerr << "lara: internal error: " << what.substr(0, what.find('\n')) << "\n";
        code = static_cast<int>(lara::ErrorKind::internal);
    }
    // Output piped to a full disk or a closed pipe must not exit 0.
    if (!std::cout.flush() && code == 0) {
        std::cerr << "lara: cannot write to standard output\n";
        code = static_cast<int>(lara::ErrorKind::output);
    }
    return code;
}
