#include "common.h"

#include "lara/files.h"

#include <cstdio>
#include <iostream>

namespace lara::cli {

void DataOptions::add_to(CLI::App& command, const std::string& what) {
    command.add_option("--data", path, what)->required()->check(CLI::ExistingFile);
    command.add_option("--from", read.from, "first data row to use (0-based, header excluded)")->check(CLI::NonNegativeNumber);
    command.add_option("--to", read.to, "one past the last data row to use (default: the end)");
    command.add_option("--fill", read.fill, "what to do with NaN, infinity or empty fields")
        ->transform(CLI::CheckedTransformer(std::map<std::string, FillPolicy>{{"reject", FillPolicy::reject}, {"forward", FillPolicy::forward}}))
        ->default_str("reject");
    command.add_option("--timestamp", read.timestamp, "leading timestamp column")
        ->transform(CLI::CheckedTransformer(std::map<std::string, TimestampColumn>{
            {"detect", TimestampColumn::detect}, {"none", TimestampColumn::none}, {"first", TimestampColumn::first}}))
        ->default_str("detect");
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

Detector::Progress progress_printer(bool quiet) {
    if (quiet) return {};
    return [](const TrainProgress& p) {
        std::fprintf(stderr, "epoch %3lld/%lld  train %.4f  val %.4f  %.1f s elapsed, at most %.1f s left\n",
                     static_cast<long long>(p.epoch), static_cast<long long>(p.epochs), p.train_loss, p.val_loss, p.seconds,
                     p.seconds_left);
    };
}

}  // namespace lara::cli
