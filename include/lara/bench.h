// lara/bench.h: end-to-end timings in one process, reported as ratios against baselines run in
// the same process (never asserted in tests): training per epoch, scoring throughput, and the
// retraining latency of LARA next to finetune and a full training run, with peak memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "lara/config.h"

namespace lara {

struct BenchOptions {
    std::string train_file;       // old rows then new rows; empty: the synthetic service
    std::string test_file;        // rows to score; empty: the training file
    std::int64_t change_at = -1;  // first new row; -1: the last 43 rows are new
    std::int64_t new_rows = 43;   // rows of the new pattern given to retraining
    std::int64_t epochs = 3;      // epochs timed for the gru (the mlp trains as `lara train` does, and is retrained)
    std::int64_t repeats = 20;    // LARA retrainings timed (the median is reported)
    std::string activation = ModelConfig{}.activation;  // the mlp's hidden layers (ModelConfig::activation)
    int threads = 0;              // intra-op threads; 0: LibTorch's default

    void validate() const;  // throws Error(usage) naming the field
};

nlohmann::json run_bench(const BenchOptions& options, const std::function<void(const std::string&)>& log = {});

//! Threads LibTorch (intra-op) and OpenBLAS use from now on, in the whole process (0 leaves the
//! defaults). Results are deterministic for a seed and a thread count.
void set_threads(int threads);

}  // namespace lara
