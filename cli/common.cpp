#include "common.h"

#include "lara/files.h"

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace lara::cli {

void DataOptions::add_to(CLI::App& command, const std::string& what) {
    command.add_option("--data", path, what)->required();  // the reader names a missing file (exit 2)
    command.add_option("--from", read.from, "first data row to use (0-based, header excluded)");
    command.add_option("--to", read.to, "one past the last data row to use (default: the end)");
    command.add_option("--fill", fill, "what to do with NaN, infinity or empty fields")
        ->check(CLI::IsMember({"reject", "forward"}))
        ->capture_default_str();
    command.add_option("--timestamp", timestamp, "leading timestamp column")
        ->check(CLI::IsMember({"detect", "none", "first"}))
        ->capture_default_str();
}

ReadOptions DataOptions::options() const {
    ReadOptions options = read;
    options.fill = fill == "forward" ? FillPolicy::forward : FillPolicy::reject;
    options.timestamp = timestamp == "none" ? TimestampColumn::none : timestamp == "first" ? TimestampColumn::first : TimestampColumn::detect;
    return options;
}

void DataOptions::refuse_empty(const std::string& source, std::int64_t end, const char* to_do) const {
    if (end > read.from) return;
    throw Error(ErrorKind::data, source + ": row range [" + std::to_string(read.from) + ", " +
                                     (read.to == -1 ? std::string("end") : std::to_string(read.to)) + ") holds no rows " + to_do);
}

void DataOptions::refuse_stdin() const {
    if (path == "-") throw Error(ErrorKind::usage, "--data -: only score reads standard input; give a file");
}

Series DataOptions::load() const {
    refuse_stdin();
    return read_series(path, options());
}

void add_threads_option(CLI::App& command, int& threads) {
    command.add_option("--threads", threads, "LibTorch's intra-op and OpenBLAS's threads (0: their defaults)")
        ->check(CLI::Range(0, 4096))
        ->capture_default_str();
}

void add_seed_option(CLI::App& command, std::uint64_t& seed) {
    const CLI::Validator whole_number(
        [](std::string& text) -> std::string {
            std::uint64_t value = 0;
            const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (text.empty() || status != std::errc() || end != text.data() + text.size())
                return "a seed is a whole number from 0 to 18446744073709551615, not \"" + text + "\"";
            return {};
        },
        "");
    command.add_option("--seed", seed, "random seed")->check(whole_number)->capture_default_str();
}

void add_activation_option(CLI::App& command, std::string& activation) {
    command.add_option("--activation", activation, "the mlp's hidden layers; a smooth one keeps the ruminate block's ESS near N (relu: about 1)")
        ->check(CLI::IsMember(kActivations))
        ->capture_default_str();
}

void write_output(const std::string& path, const std::string& text) {
    if (path.empty()) {
        std::cout << text;
        return;
    }
    write_file_atomically(path, text);
}

void check_output_path(const std::string& path, const std::vector<std::string>& inputs) {
    namespace fs = std::filesystem;
    if (path.empty()) return;
    check_writable(path);
    // The same file under two names, or the same name of a file not written yet (two outputs).
    const auto same = [](const std::string& a, const std::string& b) {
        std::error_code error;
        if (fs::equivalent(a, b, error)) return true;
        const auto ca = fs::weakly_canonical(a, error);
        if (error) return false;
        const auto cb = fs::weakly_canonical(b, error);
        return !error && ca == cb;
    };
    for (const auto& input : inputs)
        if (!input.empty() && same(path, input))
            throw Error(ErrorKind::output, path + ": is the same file as " + input +
                                               ", which this command also uses; writing it would destroy what that file holds");
}

Detector::Progress progress_printer(bool quiet) {
    if (quiet) return {};
    return [](const TrainProgress& p) {
        std::fprintf(stderr, "epoch %3lld/%lld  train %.4f  val %.4f  %.1f s elapsed, at most %.1f s left\n",
                     static_cast<long long>(p.epoch), static_cast<long long>(p.epochs), p.train_loss, p.val_loss, p.seconds,
                     p.seconds_left);
    };
}

}  // namespace lara::cli
