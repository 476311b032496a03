// Pieces every subcommand shares: the data options, atomic text output, progress lines.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "lara/bench.h"  // set_threads
#include "lara/lara.h"

namespace lara::cli {

//! --data FILE [--from ROW] [--to ROW] [--fill reject|forward] [--timestamp detect|none|first]
struct DataOptions {
    std::string path;
    ReadOptions read;
    // By name only: CLI11 would also take an enum's number ("--timestamp 2").
    std::string fill = "reject", timestamp = "detect";
    void add_to(CLI::App& command, const std::string& what);
    ReadOptions options() const;  // read, with --fill and --timestamp
    Series load() const;
    //! Only score reads standard input: the others refuse `--data -` (usage) before any work.
    void refuse_stdin() const;
    //! An empty range (--from at the end, --to equal to --from) is the input's problem, said as
    //! such rather than as too few context rows or too short a window: throws Error(data) when the
    //! rows read from `source` end (`end`, one past the last) at or before --from.
    void refuse_empty(const std::string& source, std::int64_t end, const char* to_do) const;
};

//! --seed: CLI11 would wrap "-1" into 2⁶⁴ − 1 and clamp what does not fit; only digits that fit
//! in 64 bits are a seed.
void add_seed_option(CLI::App& command, std::uint64_t& seed);

//! --threads N: LibTorch's intra-op and OpenBLAS's threads (0: their defaults). Results are
//! deterministic for a seed and a thread count, so a run that must reproduce another fixes it.
void add_threads_option(CLI::App& command, int& threads);

//! --activation relu|softplus|elu|silu|tanh (the mlp's hidden layers)
void add_activation_option(CLI::App& command, std::string& activation);

//! Writes `text` to PATH via a temporary file and a rename, or to stdout when PATH is empty.
void write_output(const std::string& path, const std::string& text);

//! Refuses (ErrorKind::output) an output path that check_writable() refuses (lara/files.h), or
//! that names the same file as one of `inputs` (the command's other files, existing or not),
//! so that a long run neither ends in a write bound to fail nor destroys what it reads.
void check_output_path(const std::string& path, const std::vector<std::string>& inputs = {});

//! A progress line per epoch on stderr, unless quiet.
Detector::Progress progress_printer(bool quiet);

//! Each subcommand adds itself and sets a callback that runs it.
void add_train(CLI::App& app);
void add_score(CLI::App& app);
void add_info(CLI::App& app);
void add_retrain(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_experiment(CLI::App& app);
void add_demo(CLI::App& app);
void add_bench(CLI::App& app);
void add_compare(CLI::App& app);

}  // namespace lara::cli
