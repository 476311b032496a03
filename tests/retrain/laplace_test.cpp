#include <gtest/gtest.h>

#include <cmath>

#include "retrain/laplace.h"

namespace {

//! What the test decoders share: latent 2, a standard-normal encoder, decode_last from decode.
class TestDecoder : public lara::model::Reconstructor {
public:
    TestDecoder(std::int64_t window, std::int64_t metrics) {
        config_.latent = 2;
        config_.window = window;
        config_.n_metrics = metrics;
    }
    const lara::ModelConfig& config() const override { return config_; }
    lara::model::Gaussian encode(const torch::Tensor& x) const override {
        return {torch::zeros({x.size(0), 2}), torch::ones({x.size(0), 2})};
    }
    lara::model::Gaussian decode_last(const torch::Tensor& z) const override {
        const auto p = decode(z);
        return {p.mean.select(1, -1), p.var.select(1, -1)};
    }

private:
    lara::ModelConfig config_;
};

// A smooth decoder whose mean and variance both move with z, over windows of 3 steps × 2 metrics,
// latent 2: mean = tanh(A z + a) and var = softplus(B z + b) + 0.1.
class Decoder : public TestDecoder {
public:
    Decoder() : TestDecoder(3, 2) {
        torch::manual_seed(3);
        A = torch::randn({6, 2});
        a = 0.3 * torch::randn({6});
        B = 0.5 * torch::randn({6, 2});
        b = 0.5 * torch::randn({6});
    }
    lara::model::Gaussian decode(const torch::Tensor& z) const override {
        const auto mean = torch::tanh(torch::matmul(z, A.t()) + a);
        const auto var = torch::nn::functional::softplus(torch::matmul(z, B.t()) + b) + 0.1;
        return {mean.view({-1, 3, 2}), var.view({-1, 3, 2})};
    }
    torch::Tensor A, a, B, b;
};

//! A decoder of 40 × 19 values near the normaliser's clip (10), with the floor's variance (0.05²):
//! the regime of a new pattern whose metrics sit at the clip, as on JumpStarter.
class NearTheClip : public TestDecoder {
public:
    NearTheClip() : TestDecoder(40, 19) {
        torch::manual_seed(5);
        A = torch::randn({760, 2});
    }
    lara::model::Gaussian decode(const torch::Tensor& z) const override {
        const auto mean = 9.9 + 0.1 * torch::tanh(torch::matmul(z, A.t()));
        return {mean.view({-1, 40, 19}), torch::full({z.size(0), 40, 19}, 0.0025)};
    }
    torch::Tensor A;
};

//! A cone: means equal to the data of ones, and every one of the 3 × 2 values with variance
//! 0.01 · exp(10 ‖z − 0.5‖), so that with n + 1 windows the target is −30 (n + 1) ‖z − 0.5‖ plus the
//! prior: no curvature along the gradient bounds a Newton step, and near the apex every candidate
//! step, even the shortest, lands farther from it than it started.
class Cone : public TestDecoder {
public:
    Cone() : TestDecoder(3, 2) {}
    lara::model::Gaussian decode(const torch::Tensor& z) const override {
        const auto var = 0.01 * torch::exp(10.0 * (z - 0.5).norm(2, 1));
        return {torch::ones({z.size(0), 3, 2}), var.view({-1, 1, 1}).expand({z.size(0), 3, 2}).contiguous()};
    }
};

//! Two windows, each with 4 restored windows of evidence (count 5), as sufficient statistics; a
//! level far from the decoder's range of means (tanh) is a new pattern.
lara::retrain::LogTarget target_of(const Decoder& model, double level = 0) {
    torch::manual_seed(4);
    const auto x = level + 0.8 * torch::randn({2, 5, 6});  // [K, n + 1, w·d]
    return lara::retrain::LogTarget::of_windows(model, x);
}

//! Minus the Hessian [K, m, m] of the log target at z [K, m], by double backpropagation (the windows
//! are independent, so the Hessian of the sum is block diagonal, one m × m block per window).
torch::Tensor minus_hessian(const lara::retrain::LogTarget& target, const torch::Tensor& at) {
    const auto z = at.detach().clone().requires_grad_();
    const auto gradient = torch::autograd::grad({target(z.unsqueeze(0)).sum()}, {z}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
    std::vector<torch::Tensor> blocks;
    for (std::int64_t k = 0; k < z.size(0); ++k) {
        std::vector<torch::Tensor> rows;
        for (std::int64_t i = 0; i < z.size(1); ++i)
            rows.push_back(torch::autograd::grad({gradient[k][i]}, {z}, {}, /*retain_graph=*/true)[0][k]);
        blocks.push_back(-torch::stack(rows));
    }
    return torch::stack(blocks).to(torch::kFloat64);
}

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
    return ((got - want).norm() / want.norm()).item<double>();
}

}  // namespace

TEST(Laplace, TheTargetEqualsTheDirectSumOverItsWindowsNearTheClip) {
    // Σ_j log N(x_j | μ, var) + log N(z | 0, I), summed directly in float64, against the target
    // from its statistics, for 11 windows near 10. The expanded S2 − 2μS1 + (n+1)μ² cancels in
    // float32 there (S2 ≈ 1100 per value): it was off by more than the bound below.
    const NearTheClip model;
    torch::manual_seed(4);
    const auto x = (9.95 + 0.05 * torch::randn({2, 11, 760})).clamp_max(10.0);
    const auto target = lara::retrain::LogTarget::of_windows(model, x);
    const auto z = torch::randn({3, 2, 2});
    const auto p = model.decode(z.reshape({6, 2}));
    const auto mean = p.mean.reshape({3, 2, 1, 760}).to(torch::kFloat64), var = p.var.reshape({3, 2, 1, 760}).to(torch::kFloat64);
    const auto direct = (-0.5 * ((x.to(torch::kFloat64).unsqueeze(0) - mean).square() / var + var.log() + std::log(2 * M_PI))).sum({2, 3}) -
                        0.5 * (z.to(torch::kFloat64).square().sum(2) + 2 * std::log(2 * M_PI));
    const auto error = (target(z).to(torch::kFloat64) - direct).abs().max().item<double>();
    EXPECT_LT(error, 0.1);
    // With gradients the target is the same sum as LibTorch operations (the form autograd and the
    // finite-difference Hessian differentiate), in float32: within the same bound.
    const auto differentiable = target(z.clone().requires_grad_()).detach().to(torch::kFloat64);
    EXPECT_LT((differentiable - direct).abs().max().item<double>(), 0.1);
    RecordProperty("error_without_gradients", std::to_string(error));
    RecordProperty("error_with_gradients", std::to_string((differentiable - direct).abs().max().item<double>()));
}

TEST(Laplace, TheExpansionIsTheTargetsValueGradientAndMinusHessian) {
    const Decoder model;
    const auto target = target_of(model, 2.0);  // large residuals: the decoder's own curvature matters
    const auto z = torch::tensor({{0.1f, -0.2f}, {-0.3f, 0.2f}});
    const auto local = lara::retrain::expand(target, z);
    const auto point = z.detach().clone().requires_grad_();
    const auto value = target(point.unsqueeze(0)).sum();
    const auto gradient = torch::autograd::grad({value}, {point})[0].to(torch::kFloat64);
    EXPECT_LT(relative_error(local.gradient, gradient), 1e-4);
    const auto want = minus_hessian(target, z);
    ASSERT_GT(torch::linalg_eigvalsh(want).min().item<double>(), 0.0) << "the check needs −H positive definite at z";
    EXPECT_LT(relative_error(local.precision(), want), 1e-2);
}

TEST(Laplace, WhereTheTargetCurvesUpwardsThePrecisionTakesTheCurvatureInAbsoluteValue) {
    const Decoder model;
    const auto target = target_of(model, 2.0);
    const auto z = torch::tensor({{2.0f, 2.0f}, {-2.0f, 1.5f}});
    const auto [values, vectors] = torch::linalg_eigh(minus_hessian(target, z));
    ASSERT_LT(values.min().item<double>(), 0.0) << "the check needs −H indefinite at z";
    const auto want = torch::matmul(vectors * values.abs().unsqueeze(1), vectors.transpose(1, 2));
    EXPECT_LT(relative_error(lara::retrain::expand(target, z).precision(), want), 1e-2);
}

TEST(Laplace, NewtonStepsClimbToTheModeAndStopThereWithTheCurvatureOfTheMode) {
    const Decoder model;
    const auto target = target_of(model, 2.0);
    const auto start = torch::tensor({{2.0f, 2.0f}, {-2.0f, 1.5f}});
    const auto at_start = lara::retrain::expand(target, start);
    const auto fit = lara::retrain::laplace(target, start, 30);
    EXPECT_GT(fit.steps, 0);
    EXPECT_LT(fit.steps, 30) << "stops once converged";
    const auto mode = fit.proposal.mean.to(torch::kFloat32);
    const auto at_mode = lara::retrain::expand(target, mode);
    const auto want = minus_hessian(target, mode);
    const auto value_at_start = target(start.unsqueeze(0))[0], value_at_mode = target(mode.unsqueeze(0))[0];
    for (std::int64_t k = 0; k < 2; ++k) {
        EXPECT_GT(value_at_mode[k].item<double>(), value_at_start[k].item<double>()) << "window " << k;
        EXPECT_LT(at_mode.gradient[k].norm().item<double>(), 1e-2 * at_start.gradient[k].norm().item<double>()) << "window " << k;
        // The Newton decrement at the mode, in the exact Hessian's metric, is below the tolerance.
        const auto g = at_mode.gradient[k];
        EXPECT_LT(torch::dot(g, torch::linalg_solve(want[k], g)).item<double>(), 1e-2) << "window " << k;
        const auto precision = torch::matmul(fit.proposal.chol[k], fit.proposal.chol[k].t());
        EXPECT_LT(relative_error(precision, want[k]), 1e-2) << "window " << k;
    }
    // A cap is obeyed, and no steps stay where they started.
    EXPECT_EQ(lara::retrain::laplace(target, start, 2).steps, 2);
    const auto none = lara::retrain::laplace(target, start, 0);
    EXPECT_EQ(none.steps, 0);
    EXPECT_TRUE(torch::equal(none.proposal.mean.to(torch::kFloat32), start));
}

TEST(Laplace, ANewtonStepThatWouldLowerTheTargetIsNotTaken) {
    // laplace() moves a window only to a candidate that raises its target (docs/method.md), so the
    // target at the returned point never falls as the step cap s grows: the run capped at s is the
    // run capped at s − 1 and one more step. Near the apex of a cone the first steps all overshoot.
    // (A narrow Gaussian spike rarely makes every candidate worse: only starts within about 0.5 %
    // of its inflection radius do.)
    const Cone model;
    const auto target = lara::retrain::LogTarget::of_windows(model, torch::ones({30, 3, 6}));
    torch::manual_seed(6);
    const auto start = 0.5 + 0.05 * torch::randn({30, 2});
    auto before = target(start.unsqueeze(0))[0];
    for (std::int64_t s = 1; s <= 8; ++s) {
        const auto mode = lara::retrain::laplace(target, start, s).proposal.mean.to(torch::kFloat32);
        const auto after = target(mode.unsqueeze(0))[0];
        for (std::int64_t k = 0; k < 30; ++k)
            EXPECT_GE(after[k].item<double>(), before[k].item<double>() - 1e-3) << "start " << k << ", step " << s;
        before = after;
    }
}

TEST(Laplace, TheProposalsLogDensityIsThatOfAGaussianWithPrecisionLLt) {
    // log N(z | μ, P⁻¹) = −½ [(z − μ)ᵀ P (z − μ) + m log 2π − log det P], P = L Lᵀ formed here and its
    // log-determinant taken by torch::logdet, for 2 windows of latent 3 and 4 points each.
    torch::manual_seed(8);
    const auto mean = torch::randn({2, 3}, torch::kFloat64);
    const auto chol = torch::tril(torch::randn({2, 3, 3}, torch::kFloat64), -1) + torch::diag_embed(0.5 + torch::rand({2, 3}, torch::kFloat64));
    const auto z = torch::randn({4, 2, 3});
    const lara::retrain::FullGaussian g{mean, chol};
    const auto got = g.log_density(z);
    ASSERT_EQ(got.sizes(), (std::vector<std::int64_t>{4, 2}));
    for (std::int64_t i = 0; i < 4; ++i)
        for (std::int64_t k = 0; k < 2; ++k) {
            const auto P = torch::matmul(chol[k], chol[k].t());
            const auto d = z[i][k].to(torch::kFloat64) - mean[k];
            const double want = -0.5 * (torch::dot(d, torch::mv(P, d)).item<double>() + 3 * std::log(2 * M_PI) - torch::logdet(P).item<double>());
            EXPECT_NEAR(got[i][k].item<double>(), want, 1e-5 * (1 + std::abs(want))) << "point " << i << ", window " << k;
        }
}
