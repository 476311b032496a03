// The ruminate block (docs/method.md): for each new window, n windows restored from the frozen
// old model, and the target latent z̃ = E[z | x, x̄^(1..n)] by self-normalised importance sampling
// in log space, with all N proposals of all windows decoded in one batch. The target, with n + 1
// windows of evidence, is far narrower than q(z|x) and far from its mean, so the default proposal
// is a Laplace approximation at the target's mode (retrain/laplace.h); the effective sample size
// is reported because with a ReLU decoder it stays low (docs/method.md).
#pragma once

#include <string>

#include "model/reconstructor.h"

namespace lara::retrain {

struct RuminateOptions {
    std::int64_t n_restored = 10;         // n
    std::int64_t n_samples = 16;          // N
    std::int64_t newton_steps = 15;       // laplace: the most Newton steps from the encoder mean towards the mode
    std::string proposal = "laplace";     // laplace (Newton to the mode, then N(mode, (−H)⁻¹)) | posterior q(z|x) | prior N(0, I)
};

struct Rumination {
    torch::Tensor z_tilde;    // [K, m], the target latents
    torch::Tensor ess;        // [K], effective sample size 1 / Σ w̄², in [1, N]
    std::int64_t newton_steps = 0;  // laplace: the most steps any chunk of windows took to its mode
};

//! windows: [K, w, d] new windows, normalised with the old statistics. Draws from the thread's generator (model/random.h).
Rumination ruminate(const model::Reconstructor& model, const torch::Tensor& windows, const RuminateOptions& options);

}  // namespace lara::retrain
