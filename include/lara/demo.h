// lara/demo.h: the built-in demonstration, on a synthetic service that changes its normal
// pattern: train, detect, watch detection break after the change, repair it with LARA.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lara/config.h"

namespace lara {

struct DemoOptions {
    std::string arch = "mlp";   // VAE architecture
    std::int64_t epochs = 20;   // training epochs of the base model
    std::int64_t new_rows = 43; // rows of the new pattern given to retraining
    std::uint64_t seed = 0;
};

struct DemoRow {
    std::string model;       // which model scored
    std::string period;      // before or after the change
    double precision = 0, recall = 0, f1 = 0;  // point-wise, at the model's label-free threshold
    double best_f1 = 0;      // point-wise at the best threshold: uses the labels, for reference only
    double seconds = 0;      // time to obtain the model (training or retraining)
};

struct DemoReport {
    std::int64_t n_rows = 0, n_metrics = 0, change_at = 0, train_rows = 0;
    std::vector<DemoRow> rows;
    std::string text() const;  // the summary table `lara demo` prints
};

DemoReport run_demo(const DemoOptions& options, const std::function<void(const TrainProgress&)>& progress = {});

}  // namespace lara
