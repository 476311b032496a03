// The decoder's closed-form derivatives (model::DecoderJet) against finite differences of the
// decoder itself in float64, and the exact expansion of the Laplace fit built on them against the
// target's Hessian by double backpropagation.
#include <tuple>

#include <gtest/gtest.h>

#include "model/random.h"
#include "retrain/adjusted_model.h"
#include "retrain/laplace.h"

namespace {
using lara::model::DecoderJet;
using lara::retrain::AdjustedModel;
using lara::retrain::AffineMap;

lara::ModelConfig config_with(const std::string& activation) {
    lara::ModelConfig c;
    c.window = 4;
    c.n_metrics = 3;
    c.latent = 3;
    c.hidden = 16;
    c.activation = activation;
    return c;
}

//! An MLP VAE with random weights, in float64 so that finite differences are accurate to ~10⁻⁸.
std::shared_ptr<lara::model::Vae> vae_in_float64(const std::string& activation) {
    lara::model::seed_thread_random(7);
    auto vae = lara::model::make_vae(config_with(activation));
    vae->to(torch::kFloat64);
    return vae;
}

AffineMap identity_in_float64(std::int64_t n) { return {torch::eye(n, torch::kFloat64), torch::zeros({n}, torch::kFloat64)}; }

double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
    return ((got - want).norm() / want.norm()).item<double>();
}

//! Checks every part of model.decode_jet(z) against central differences of model.decode.
void expect_jet_matches_differences(const lara::model::Reconstructor& model, const torch::Tensor& z) {
    const auto jet = model.decode_jet(z);
    ASSERT_TRUE(jet.has_value());
    const auto K = z.size(0), m = z.size(1);
    const auto decoded = [&](const torch::Tensor& at) {
        const auto p = model.decode(at);
        return std::pair{p.mean.reshape({K, -1}), p.var.reshape({K, -1})};
    };
    const auto [mean, var] = decoded(z);
    // The jet's outputs are the decoder's, summed in another order.
    EXPECT_LT(relative_error(jet->at.mean, mean), 1e-14);
    EXPECT_LT(relative_error(jet->at.var, var), 1e-14);

    constexpr double h = 1e-5;
    std::vector<torch::Tensor> d_mean, d_var;
    for (std::int64_t i = 0; i < m; ++i) {
        const auto step = h * torch::eye(m, torch::kFloat64)[i];
        const auto [up_mean, up_var] = decoded(z + step);
        const auto [down_mean, down_var] = decoded(z - step);
        d_mean.push_back((up_mean - down_mean) / (2 * h));
        d_var.push_back((up_var - down_var) / (2 * h));
    }
    const auto wd = mean.size(1);
    EXPECT_LT(relative_error(jet->jacobian.narrow(2, 0, wd), torch::stack(d_mean, 1)), 1e-7);
    EXPECT_LT(relative_error(jet->jacobian.narrow(2, wd, wd), torch::stack(d_var, 1)), 1e-7);

    // The curvature of φ(z) = Σ_o g_mean[o] mean[o] + g_var[o] var[o], by second differences.
    torch::manual_seed(8);
    const auto g_mean = torch::randn_like(mean), g_var = torch::randn_like(var);
    const auto phi = [&](const torch::Tensor& at) {
        const auto [mu, v] = decoded(at);
        return (g_mean * mu + g_var * v).sum(1);  // [K]
    };
    constexpr double k = 1e-4;
    std::vector<torch::Tensor> rows;
    for (std::int64_t i = 0; i < m; ++i) {
        std::vector<torch::Tensor> row;
        for (std::int64_t j = 0; j < m; ++j) {
            const auto ei = k * torch::eye(m, torch::kFloat64)[i], ej = k * torch::eye(m, torch::kFloat64)[j];
            row.push_back((phi(z + ei + ej) - phi(z + ei - ej) - phi(z - ei + ej) + phi(z - ei - ej)) / (4 * k * k));
        }
        rows.push_back(torch::stack(row, 1));
    }
    EXPECT_LT(relative_error(jet->curvature(g_mean, g_var), torch::stack(rows, 1)), 1e-5);
}

//! The target's value (summed over windows), gradient and saddle-free precision at z [K, m] by
//! autograd, the Hessian by double backpropagation (one m × m block per window), in float64.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> by_double_backpropagation(const lara::retrain::LogTarget& target, const torch::Tensor& z) {
    const auto point = z.clone().requires_grad_();
    const auto value = target(point.unsqueeze(0)).sum();
    const auto gradient = torch::autograd::grad({value}, {point}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
    std::vector<torch::Tensor> blocks;
    for (std::int64_t k = 0; k < z.size(0); ++k) {
        std::vector<torch::Tensor> rows;
        for (std::int64_t i = 0; i < z.size(1); ++i) rows.push_back(torch::autograd::grad({gradient[k][i]}, {point}, {}, /*retain_graph=*/true)[0][k]);
        blocks.push_back(-torch::stack(rows));
    }
    const auto [values, vectors] = torch::linalg_eigh(torch::stack(blocks).to(torch::kFloat64));
    return {value.detach().to(torch::kFloat64), gradient.detach().to(torch::kFloat64),
            torch::matmul(vectors * values.abs().clamp_min(1e-3).unsqueeze(1), vectors.transpose(1, 2))};
}

}  // namespace

class DecoderJetOf : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderJetOf, AnMlpDecoderHasTheDerivativesOfItsOutputs) {
    torch::manual_seed(9);
    const AdjustedModel model(vae_in_float64(GetParam()), identity_in_float64(3), identity_in_float64(3));
    expect_jet_matches_differences(model, torch::randn({5, 3}, torch::kFloat64));
}

INSTANTIATE_TEST_SUITE_P(EveryActivation, DecoderJetOf, ::testing::ValuesIn(lara::kActivations));

TEST(DecoderJet, GoesThroughAnAffineMapOfEachStepOrOfTheWholeWindow) {
    torch::manual_seed(10);
    const auto vae = vae_in_float64("softplus");
    const auto z = torch::randn({5, 3}, torch::kFloat64);
    const auto z_map = identity_in_float64(3);
    const AffineMap per_step{torch::eye(3, torch::kFloat64) + 0.3 * torch::randn({3, 3}, torch::kFloat64), torch::randn({3}, torch::kFloat64)};
    expect_jet_matches_differences(AdjustedModel(vae, z_map, per_step), z);
    const AffineMap window{torch::eye(12, torch::kFloat64) + 0.2 * torch::randn({12, 12}, torch::kFloat64), torch::randn({12}, torch::kFloat64)};
    expect_jet_matches_differences(AdjustedModel(vae, z_map, window), z);

    // A map that shrinks a metric to nothing: the variance floor holds it, and no derivative passes.
    auto shrink = per_step;
    shrink.A = shrink.A.clone();
    shrink.A[1] = 0;
    const AdjustedModel floored(vae, z_map, shrink);
    const auto jet = floored.decode_jet(z);
    ASSERT_TRUE(jet.has_value());
    const auto metric1 = torch::arange(1, 12, 3);
    EXPECT_TRUE(torch::all(jet->jacobian.index_select(2, 12 + metric1) == 0).item<bool>());
    expect_jet_matches_differences(floored, z);
}

TEST(DecoderJet, AGruOrANonLinearMapHasNone) {
    auto config = config_with("softplus");
    config.arch = "gru";
    lara::model::seed_thread_random(7);
    const auto z = torch::randn({2, 3});
    EXPECT_FALSE(AdjustedModel(lara::model::make_vae(config)).decode_jet(z).has_value());
    const auto mlp = AdjustedModel(lara::model::make_vae(config_with("softplus")));
    ASSERT_TRUE(mlp.decode_jet(z).has_value());
    const auto with_net = mlp.followed_by(nullptr, std::make_shared<lara::retrain::MlpMap>(3, 4));
    EXPECT_FALSE(with_net.decode_jet(z).has_value());
}

TEST(DecoderJet, TheExactExpansionIsTheTargetsValueGradientAndMinusHessian) {
    // A float32 model, as retraining runs it, with windows off its pattern so that the decoder's
    // own curvature matters; the reference is the Hessian by double backpropagation.
    lara::model::seed_thread_random(11);
    const AffineMap per_step{torch::eye(3) + 0.2 * torch::randn({3, 3}), 0.5 * torch::randn({3})};
    const AdjustedModel model(lara::model::make_vae(config_with("softplus")), AffineMap::identity(3), per_step);
    torch::manual_seed(12);
    const auto target = lara::retrain::LogTarget::of_windows(model, 1.5 + torch::randn({3, 6, 12}));
    const auto z = torch::randn({3, 3});

    const auto [value, gradient, want] = by_double_backpropagation(target, z);

    const auto exact = lara::retrain::expand(target, z);
    EXPECT_NEAR(target(z.unsqueeze(0)).sum().item<double>(), value.item<double>(), 1e-6 * std::abs(value.item<double>()));
    EXPECT_LT(relative_error(exact.gradient, gradient), 1e-4);
    EXPECT_LT(relative_error(exact.precision(), want), 1e-4);
    // The finite-difference expansion, which a GRU takes, agrees to its step's accuracy.
    EXPECT_LT(relative_error(lara::retrain::expand_numerically(target, z).precision(), want), 1e-2);
}

TEST(DecoderJet, AFloat64ModelIsExpandedInItsOwnPrecision) {
    // The target's sum and the output derivatives run in the model's precision: in float64 the
    // expansion meets the double-backpropagation Hessian to rounding, not to float32's 1e-4.
    torch::manual_seed(13);
    const AffineMap per_step{torch::eye(3, torch::kFloat64) + 0.2 * torch::randn({3, 3}, torch::kFloat64), 0.5 * torch::randn({3}, torch::kFloat64)};
    const AdjustedModel model(vae_in_float64("silu"), identity_in_float64(3), per_step);
    const auto target = lara::retrain::LogTarget::of_windows(model, 1.5 + torch::randn({3, 6, 12}, torch::kFloat64));
    const auto z = torch::randn({3, 3}, torch::kFloat64);

    const auto [value, gradient, want] = by_double_backpropagation(target, z);

    const auto exact = lara::retrain::expand(target, z);
    EXPECT_LT(relative_error(exact.gradient, gradient), 1e-10);
    EXPECT_LT(relative_error(exact.precision(), want), 1e-10);
    // Without gradients the target is the loop's sum, in float64 too.
    EXPECT_NEAR(target(z.unsqueeze(0)).sum().item<double>(), value.item<double>(), 1e-6 * std::abs(value.item<double>()));
}
