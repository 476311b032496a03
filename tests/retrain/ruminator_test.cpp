#include <cmath>

#include <gtest/gtest.h>

#include "model/random.h"
#include "retrain/ruminator.h"

namespace {

// A decoder that is linear with a constant variance, p(x|z) = N(W z + c, σ² I), and an encoder
// that returns a fixed mean with a negligible variance, so that the restored windows are the
// deterministic W μ₀ + c. The target of the ruminate block is then an exact Gaussian with the
// closed-form posterior  precision I + (n+1) WᵀW / σ²,  mean Σ Wᵀ (S1 − (n+1) c) / σ².
class LinearGaussian : public lara::model::Reconstructor {
public:
    LinearGaussian() {
        config_.latent = 3;
        config_.window = 4;
        config_.n_metrics = 2;
        torch::manual_seed(11);
        W = 0.7 * torch::randn({8, 3});
        c = torch::randn({8});
        mu0 = torch::tensor({0.3f, -0.2f, 0.1f});
    }
    const lara::ModelConfig& config() const override { return config_; }
    lara::model::Gaussian encode(const torch::Tensor& x) const override {
        return {mu0.expand({x.size(0), 3}).clone(), torch::full({x.size(0), 3}, 1e-12f)};
    }
    lara::model::Gaussian decode(const torch::Tensor& z) const override {
        const auto mean = torch::matmul(z, W.t()) + c;
        return {mean.view({-1, 4, 2}), torch::full({z.size(0), 4, 2}, kVar)};
    }
    lara::model::Gaussian decode_last(const torch::Tensor& z) const override {
        const auto p = decode(z);
        return {p.mean.select(1, -1), p.var.select(1, -1)};
    }

    static constexpr float kVar = 0.5f;
    torch::Tensor W, c, mu0;

private:
    lara::ModelConfig config_;
};

//! The closed-form posterior of window k: mean [3] and covariance [3, 3], in float64.
std::pair<torch::Tensor, torch::Tensor> posterior(const LinearGaussian& model, const torch::Tensor& window, std::int64_t n_restored) {
    const auto W = model.W.to(torch::kFloat64), c = model.c.to(torch::kFloat64);
    const double count = static_cast<double>(1 + n_restored);
    const auto restored = torch::matmul(W, model.mu0.to(torch::kFloat64)) + c;
    const auto covariance = torch::linalg_inv(torch::eye(3, torch::kFloat64) + count * torch::matmul(W.t(), W) / LinearGaussian::kVar);
    const auto S1 = window.reshape({8}).to(torch::kFloat64) + static_cast<double>(n_restored) * restored;
    return {torch::matmul(covariance, torch::matmul(W.t(), S1 - count * c) / LinearGaussian::kVar), covariance};
}

//! z̃ of each window within 5 standard errors of the closed-form mean, the error of a
//! self-normalised estimate being about sd / √ESS.
void expect_posterior_means(const lara::retrain::Rumination& r, const LinearGaussian& model, const torch::Tensor& windows,
                            std::int64_t n_restored, const std::string& what) {
    for (std::int64_t k = 0; k < windows.size(0); ++k) {
        const auto [mean, covariance] = posterior(model, windows[k], n_restored);
        for (std::int64_t i = 0; i < 3; ++i) {
            const double error = std::sqrt(covariance[i][i].item<double>() / r.ess[k].item<double>());
            EXPECT_NEAR(r.z_tilde[k][i].item<double>(), mean[i].item<double>(), 5 * error + 1e-4)
                << what << ", window " << k << ", coordinate " << i << ", ESS " << r.ess[k].item<double>();
        }
    }
}

}  // namespace

TEST(Ruminator, TheLaplaceProposalIsExactForALinearGaussianDecoder) {
    const LinearGaussian model;
    torch::manual_seed(5);
    const auto windows = 2.0 * torch::randn({3, 4, 2});  // three new windows
    lara::retrain::RuminateOptions options;
    options.n_restored = 3;
    options.n_samples = 4096;
    options.proposal = "laplace";
    lara::model::seed_thread_random(1);
    const auto r = lara::retrain::ruminate(model, windows, options);

    // Proposal = target: equal weights, and z̃ is the mean of N exact posterior draws.
    for (std::int64_t k = 0; k < 3; ++k)
        EXPECT_GT(r.ess[k].item<double>(), 0.95 * static_cast<double>(options.n_samples)) << "window " << k;
    expect_posterior_means(r, model, windows, options.n_restored, "laplace");
}

TEST(Ruminator, ThePriorProposalFindsThePosteriorMeanWithAFarSmallerSampleSize) {
    const LinearGaussian model;
    torch::manual_seed(5);
    const auto windows = 2.0 * torch::randn({3, 4, 2});
    lara::retrain::RuminateOptions options;
    options.n_restored = 0;  // one window of evidence keeps the prior a usable proposal
    options.n_samples = 1 << 16;
    lara::model::seed_thread_random(2);
    options.proposal = "prior";
    const auto prior = lara::retrain::ruminate(model, windows, options);
    options.proposal = "laplace";
    const auto laplace = lara::retrain::ruminate(model, windows, options);
    expect_posterior_means(prior, model, windows, 0, "prior");
    expect_posterior_means(laplace, model, windows, 0, "laplace");
    EXPECT_LT(prior.ess.max().item<double>(), 0.5 * laplace.ess.min().item<double>());
}

TEST(Ruminator, ThePosteriorProposalDrawsFromTheEncodersGaussian) {
    // The same decoder with an encoder that returns N(0.2, 0.25 I): a proposal whose spread is its
    // standard deviation 0.5, not its variance, so a draw at the wrong scale biases the weighted mean.
    // With no restored windows the target's closed-form posterior does not depend on the encoder.
    class WideEncoder : public LinearGaussian {
    public:
        lara::model::Gaussian encode(const torch::Tensor& x) const override {
            return {torch::full({x.size(0), 3}, 0.2f), torch::full({x.size(0), 3}, 0.25f)};
        }
    };
    // Windows decoded from latents about the encoder's mean, so that its Gaussian covers the target.
    const WideEncoder model;
    torch::manual_seed(5);
    const auto windows = model.decode(0.2 + 0.5 * torch::randn({3, 3})).mean + 0.3 * torch::randn({3, 4, 2});
    lara::retrain::RuminateOptions options;
    options.n_restored = 0;
    options.n_samples = 1 << 16;
    options.proposal = "posterior";
    lara::model::seed_thread_random(3);
    const auto r = lara::retrain::ruminate(model, windows, options);
    expect_posterior_means(r, model, windows, 0, "posterior");
}
