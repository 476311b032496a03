#include "retrain/ruminator.h"

#include <cmath>

#include "model/random.h"

namespace lara::retrain {
namespace {

// Windows ruminated at once: memory grows as N × windows × w × d, so many new windows are taken
// in chunks (32 windows of 40 × 19 with N = 64 hold about 6 MiB per tensor).
constexpr std::int64_t kWindowsPerChunk = 32;

Rumination ruminate_chunk(const model::Reconstructor& model, const torch::Tensor& windows, const RuminateOptions& options) {
    const auto K = windows.size(0), w = windows.size(1), d = windows.size(2);
    const auto m = model.config().latent;
    const auto N = options.n_samples, n = options.n_restored;
    const auto q = model.encode(windows);  // [K, m]

    // a. Restored historical windows: decoder means at draws from q(z|x_k).
    const auto z_restore = model::Vae::sample(q, n).transpose(0, 1).reshape({K * n, m});
    const auto restored = model.decode(z_restore).mean.view({K, n, w, d});

    // b. Self-normalised importance sampling of E[z | x_k, x̄^(1..n)], in log space. Σ_j (x_j − μ)²
    // over the n + 1 windows is S2 − 2μ S1 + (n+1) μ², so one decode per proposal scores them all.
    const double count = static_cast<double>(n + 1);
    const auto S1 = windows + restored.sum(1);  // [K, w, d]
    const auto S2 = windows.square() + restored.square().sum(1);
    const model::Gaussian prior{torch::zeros({1, 1, m}), torch::ones({1, 1, m})};
    const double log_2pi = std::log(2.0 * M_PI);

    const model::Gaussian proposal = options.prior_proposal ? prior : model::Gaussian{q.mean.unsqueeze(0), q.var.unsqueeze(0)};
    const auto z = proposal.mean + proposal.var.sqrt() * torch::randn({N, K, m}, model::thread_random());  // [N, K, m]
    const auto log_proposal = model::gaussian_log_density(z, proposal).sum(2);
    const auto p = model.decode(z.reshape({N * K, m}));
    const auto mean = p.mean.view({N, K, w, d}), var = p.var.view({N, K, w, d});
    const auto squares = S2.unsqueeze(0) - 2.0 * mean * S1.unsqueeze(0) + count * mean.square();
    const auto log_likelihood = -0.5 * (count * (log_2pi + var.log()) + squares / var).sum({2, 3});
    const auto log_w = model::gaussian_log_density(z, prior).sum(2) + log_likelihood - log_proposal;
    const auto w_norm = torch::softmax(log_w, 0);  // [N, K]

    Rumination out;
    out.z_tilde = (w_norm.unsqueeze(2) * z).sum(0);
    out.ess = 1.0 / w_norm.square().sum(0);
    return out;
}

}  // namespace

Rumination ruminate(const model::Reconstructor& model, const torch::Tensor& windows, const RuminateOptions& options) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> z_tilde, ess;
    for (std::int64_t i = 0; i < windows.size(0); i += kWindowsPerChunk) {
        const auto part = ruminate_chunk(model, windows.narrow(0, i, std::min(kWindowsPerChunk, windows.size(0) - i)), options);
        z_tilde.push_back(part.z_tilde);
        ess.push_back(part.ess);
    }
    return {torch::cat(z_tilde), torch::cat(ess)};
}

}  // namespace lara::retrain
