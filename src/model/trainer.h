// ELBO training with Adam on shuffled minibatches, a held-out tail for early stopping.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/vae.h"

namespace lara::model {

using lara::TrainConfig;

struct TrainHistory {
    std::vector<double> train_loss, val_loss;
    std::int64_t best_epoch = 0;  // 1-based; its weights are the ones kept (the last epoch when nothing is held out)
    std::int64_t held_out = 0;    // latest windows held out for early stopping; 0: none (too few, or val_fraction 0)
    double seconds = 0;
};

using ProgressFn = std::function<void(const TrainProgress&)>;

//! Trains `vae` in place on windows [N, w, d] (a view of the series is fine: minibatches are
//! gathered from it). Deterministic for a given seed and thread count. Throws lara::Error (internal)
//! when the loss is not finite, as non-finite input or a diverging learning rate make it.
TrainHistory train_vae(Vae& vae, const torch::Tensor& windows, const TrainConfig& config, const ProgressFn& progress = {});

//! Mean negative ELBO per window element over `windows`, in batches, without gradients.
double mean_loss(Vae& vae, const torch::Tensor& windows, std::int64_t batch = 1024);

}  // namespace lara::model
