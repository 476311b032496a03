// lara: the command line. Only a client of the public headers; every subcommand is in its own file.
#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <new>
#include <string>

#include "common.h"
#include "lara/files.h"

namespace {

//! The library names a bad setting by its config field (learning_rate); the user typed an option
//! (--lr). Appends the option to a usage message that names a field of the table.
std::string with_option_name(const std::string& message) {
    static const std::map<std::string, std::string> options = {
        {"arch", "--arch"}, {"window", "--window"}, {"latent", "--latent"}, {"hidden", "--hidden"},
        {"activation", "--activation"}, {"epochs", "--epochs"}, {"batch", "--batch"}, {"learning_rate", "--lr"},
        {"val_fraction", "--val-fraction"}, {"patience", "--patience"}, {"risk", "--risk"},
        {"init_quantile", "--init-quantile"}, {"value", "--threshold"}, {"n_restored", "--restored"},
        {"n_samples", "--samples"}, {"newton_steps", "--newton-steps"}, {"ruminated_windows", "--ruminated-windows"},
        {"proposal", "--proposal"}, {"x_map", "--x-map"}, {"ridge_z", "--ridge-z"}, {"ridge_x", "--ridge-x"},
        {"ridge_bias", "--ridge-bias"}, {"solver", "--solver"}, {"baseline_epochs", "--baseline-epochs"},
        {"recalibrate", "--recalibrate"}, {"warmup_rows", "--warmup-rows"}, {"fit_z", "--no-fit-z and --no-fit-x"},
        {"new_rows", "--new-rows"}, {"seeds", "--seeds"}, {"eval_from", "--eval-from"}, {"jobs", "--jobs"},
        {"out", "--out"}, {"plot_entity", "--plot-entity"}, {"protocol", "--protocol"}, {"change_at", "--change-at"},
        {"repeats", "--repeats"}};
    // "train config: learning_rate must ...", "bench options: repeats must ...",
    // "experiment settings: new_rows: K must ..."; other messages may start with a file's name.
    std::size_t start = std::string::npos;
    for (const char* prefix : {" config: ", " options: ", " settings: "})
        if (const auto at = message.find(prefix); at != std::string::npos && at < 20) start = at + std::strlen(prefix);
    if (start == std::string::npos) return message;
    const auto end = message.find_first_of(" :", start);
    if (end == std::string::npos) return message;
    const auto found = options.find(message.substr(start, end - start));
    return found == options.end() ? message : message + " (option " + found->second + ")";
}

//! Ctrl-C or a kill during a write leaves no PATH.tmp-N beside an output; the process then dies of
//! the signal as it would have (exit status 128 + N in a shell).
void remove_temporary_files_and_die(int signal_number) {
    lara::remove_temporary_files();
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
}

//! For SIGINT, SIGTERM and SIGHUP, unless the signal was ignored when lara started (nohup, a
//! shell's background job), which it stays.
void remove_temporary_files_on_signals() {
    for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction current {};
        if (::sigaction(signal_number, nullptr, &current) != 0 || current.sa_handler == SIG_IGN) continue;
        struct sigaction handler {};
        handler.sa_handler = remove_temporary_files_and_die;
        sigemptyset(&handler.sa_mask);
        handler.sa_flags = SA_RESTART;
        ::sigaction(signal_number, &handler, nullptr);
    }
}

//! glibc gives a freed block over its mmap threshold back to the kernel, and the heap's top over its
//! trim threshold, so LibTorch's tensors of a few hundred KiB were faulted in again, page by page, at
//! almost every operation: a fifth of a LARA retraining's time was spent in the kernel (`perf`).
//! Higher thresholds keep up to 64 MiB of freed memory for reuse. MALLOC_*_ variables a user sets win.
void keep_freed_memory_for_reuse() {
    if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
    if (!std::getenv("MALLOC_TRIM_THRESHOLD_")) ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace

int main(int argc, char** argv) {
    keep_freed_memory_for_reuse();
    remove_temporary_files_on_signals();
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
        // CLI11 would say "A subcommand is required" of a misspelt one.
        const auto commands = app.get_subcommands([](const CLI::App*) { return true; });
        if (argc > 1 && argv[1][0] != '-' &&
            std::none_of(commands.begin(), commands.end(), [&](const CLI::App* c) { return c->get_name() == argv[1]; })) {
            std::string known;
            for (const auto* command : commands) known += (known.empty() ? "" : ", ") + command->get_name();
            throw lara::Error(lara::ErrorKind::usage, std::string("unknown command \"") + argv[1] + "\" (commands: " + known + ")");
        }
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {  // also --help and --version, which print and succeed
        code = app.exit(e) == 0 ? 0 : static_cast<int>(lara::ErrorKind::usage);
    } catch (const lara::Error& e) {
        std::cerr << "lara: " << (e.kind() == lara::ErrorKind::usage ? with_option_name(e.what()) : e.what()) << "\n";
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
