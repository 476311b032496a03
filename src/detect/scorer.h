// Scores every time step: the negative log-likelihood of step t under the model's reconstruction
// of the window that ends at t, split into one term per metric (the explanation).
#pragma once

#include <vector>

#include "model/reconstructor.h"

namespace lara::detect {

struct StepScores {
    std::int64_t n_rows = 0, n_metrics = 0;
    std::vector<double> scores;        // [T], the sum of the row's contributions
    std::vector<float> contributions;  // [T, d] row-major, −log p(x_{t,j} | window ending at t)
};

//! series: [T, d] normalised, T ≥ w. Rows t ≥ w−1 use the window ending at t; rows t < w−1 have
//! no such window and take step t of the first window [0, w), so every row gets a score. Only rows
//! [first, T) are scored (a stream scores each new row alone: first = T − 1).
StepScores score_steps(const model::Reconstructor& model, const torch::Tensor& series, std::int64_t first = 0, std::int64_t batch = 4096);

}  // namespace lara::detect
