#include <gtest/gtest.h>

#include "retrain/laplace.h"

namespace {

// A smooth decoder whose mean and variance both move with z: mean = tanh(A z + a),
// var = softplus(B z + b) + 0.1, over windows of 3 steps × 2 metrics, latent 2.
class SmoothDecoder : public lara::model::Reconstructor {
public:
    SmoothDecoder() {
        config_.latent = 2;
        config_.window = 3;
        config_.n_metrics = 2;
        torch::manual_seed(3);
        A = torch::randn({6, 2});
        a = 0.3 * torch::randn({6});
        B = 0.5 * torch::randn({6, 2});
        b = 0.5 * torch::randn({6});
    }
    const lara::ModelConfig& config() const override { return config_; }
    lara::model::Gaussian encode(const torch::Tensor& x) const override {
        return {torch::zeros({x.size(0), 2}), torch::ones({x.size(0), 2})};
    }
    lara::model::Gaussian decode(const torch::Tensor& z) const override {
        const auto mean = torch::tanh(torch::matmul(z, A.t()) + a);
        const auto var = torch::nn::functional::softplus(torch::matmul(z, B.t()) + b) + 0.1;
        return {mean.view({-1, 3, 2}), var.view({-1, 3, 2})};
    }
    lara::model::Gaussian decode_last(const torch::Tensor& z) const override {
        const auto p = decode(z);
        return {p.mean.select(1, -1), p.var.select(1, -1)};
    }
    torch::Tensor A, a, B, b;

private:
    lara::ModelConfig config_;
};

//! Two windows, each with 4 restored windows of evidence (count 5), as sufficient statistics.
lara::retrain::LogTarget target_of(const SmoothDecoder& model) {
    torch::manual_seed(4);
    const auto x = 0.8 * torch::randn({2, 5, 6});  // [K, n + 1, w·d]
    return {model, x.sum(1), x.square().sum(1), 5.0};
}

//! The Jacobian [w·d, m] of y(z) at one latent z [m], row by row with autograd.
torch::Tensor autograd_jacobian(const std::function<torch::Tensor(const torch::Tensor&)>& y, const torch::Tensor& z) {
    std::vector<torch::Tensor> rows;
    for (std::int64_t e = 0; e < 6; ++e) {
        const auto point = z.detach().clone().requires_grad_();
        rows.push_back(torch::autograd::grad({y(point).flatten()[e]}, {point})[0]);
    }
    return torch::stack(rows).to(torch::kFloat64);
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
    return ((got - want).norm() / want.norm()).item<double>();
}

}  // namespace

TEST(Laplace, FiniteDifferenceLinearisationMatchesAutogradGradientAndFisher) {
    const SmoothDecoder model;
    const auto target = target_of(model);
    const auto z = torch::tensor({{0.4f, -0.7f}, {-1.1f, 0.2f}});
    const auto local = lara::retrain::linearise(target, z);

    // The gradient by backpropagation through the target's own formula.
    const auto point = z.detach().clone().requires_grad_();
    const auto value = target(point.unsqueeze(0)).sum();
    const auto gradient = torch::autograd::grad({value}, {point})[0].to(torch::kFloat64);
    EXPECT_LT(relative_error(local.gradient, gradient), 1e-2);
    EXPECT_NEAR(local.value.sum().item<double>(), value.item<double>(), 1e-4 * std::abs(value.item<double>()));

    // The Fisher information assembled from autograd Jacobians of the decoder's mean and variance.
    for (std::int64_t k = 0; k < 2; ++k) {
        const auto decoded = model.decode(z[k].unsqueeze(0));
        const auto v = decoded.var.flatten().to(torch::kFloat64);
        const auto J_mean = autograd_jacobian([&](const torch::Tensor& p) { return model.decode(p.unsqueeze(0)).mean; }, z[k]);
        const auto J_var = autograd_jacobian([&](const torch::Tensor& p) { return model.decode(p.unsqueeze(0)).var; }, z[k]);
        const auto fisher = torch::eye(2, torch::kFloat64) + torch::matmul(J_mean.t() * (5.0 / v), J_mean) +
                            torch::matmul(J_var.t() * (2.5 / v.square()), J_var);
        EXPECT_LT(relative_error(local.fisher[k], fisher), 1e-2) << "window " << k;
    }
}

TEST(Laplace, FisherScoringClimbsToTheModeOfASmoothTarget) {
    const SmoothDecoder model;
    const auto target = target_of(model);
    const auto start = torch::tensor({{2.0f, 2.0f}, {-2.0f, 1.5f}});
    const auto at_start = lara::retrain::linearise(target, start);
    const auto proposal = lara::retrain::laplace(target, start, 30);
    const auto at_mode = lara::retrain::linearise(target, proposal.mean.to(torch::kFloat32));
    for (std::int64_t k = 0; k < 2; ++k) {
        EXPECT_GT(at_mode.value[k].item<double>(), at_start.value[k].item<double>()) << "window " << k;
        EXPECT_LT(at_mode.gradient[k].norm().item<double>(), 1e-2 * at_start.gradient[k].norm().item<double>()) << "window " << k;
        // Its precision is the Fisher information there.
        const auto precision = torch::matmul(proposal.chol[k], proposal.chol[k].t());
        EXPECT_LT(relative_error(precision, at_mode.fisher[k]), 1e-9) << "window " << k;
    }
    // And a climb of no steps stays where it started.
    EXPECT_TRUE(torch::equal(lara::retrain::laplace(target, start, 0).mean.to(torch::kFloat32), start));
}
