#include <cmath>

#include <gtest/gtest.h>

#include "detect/scorer.h"
#include "model/random.h"
#include "retrain/adjusted_model.h"
#include "support/test_support.h"

namespace {

//! −log N(x | mean, var) per metric, in float64: ½ (log 2π + log var + (x − mean)² / var).
torch::Tensor nll(const torch::Tensor& x, const torch::Tensor& mean, const torch::Tensor& var) {
    const auto v = var.to(torch::kFloat64);
    return 0.5 * (std::log(2 * M_PI) + v.log() + (x.to(torch::kFloat64) - mean.to(torch::kFloat64)).square() / v);
}

}  // namespace

TEST(Scorer, EveryRowIsScoredAgainstItsOwnWindowInEveryBatchSize) {
    // Row t ≥ w − 1 is scored under the decoder's last step at the encoder mean of the window ending
    // at t; row t < w − 1 under step t of the first window's reconstruction (detect/scorer.h). Each
    // row is recomputed here from the base VAE one window at a time, and batches of 4 windows (26
    // windows: six full batches and a part) must give what one batch of all of them gives.
    const auto c = lara::test::tiny_model();
    lara::model::seed_thread_random(1);
    auto vae = lara::model::make_vae(c);
    const lara::retrain::AdjustedModel model(vae);
    torch::manual_seed(2);
    const auto series = torch::randn({30, 3});
    const auto whole = lara::detect::score_steps(model, series);
    const auto batched = lara::detect::score_steps(model, series, 0, 4);
    ASSERT_EQ(whole.scores.size(), 30u);
    ASSERT_EQ(batched.scores.size(), 30u);
    ASSERT_EQ(batched.contributions.size(), 90u);

    torch::NoGradGuard no_grad;
    const auto first = vae->decode(vae->encode(series.narrow(0, 0, 5).unsqueeze(0)).mean);
    for (std::int64_t t = 0; t < 30; ++t) {
        torch::Tensor want;
        if (t < 4) {
            want = nll(series[t], first.mean[0][t], first.var[0][t]);
        } else {
            const auto p = vae->decode(vae->encode(series.narrow(0, t - 4, 5).unsqueeze(0)).mean);
            want = nll(series[t], p.mean[0][4], p.var[0][4]);
        }
        const double want_score = want.sum().item<double>();
        EXPECT_NEAR(whole.scores[t], want_score, 1e-5 * (1 + std::abs(want_score))) << "row " << t;
        EXPECT_NEAR(batched.scores[t], whole.scores[t], 1e-6 * (1 + std::abs(want_score))) << "row " << t;
        for (std::int64_t j = 0; j < 3; ++j) {
            const auto i = static_cast<std::size_t>(t * 3 + j);
            const double want_j = want[j].item<double>();
            EXPECT_NEAR(batched.contributions[i], want_j, 1e-5 * (1 + std::abs(want_j))) << "row " << t << ", metric " << j;
        }
    }
    // Only rows [first, T): inside the first window, at its end, and past it (a stream's last row).
    for (const std::int64_t first : {2, 4, 17, 29}) {
        const auto tail = lara::detect::score_steps(model, series, first, 4);
        ASSERT_EQ(tail.scores.size(), static_cast<std::size_t>(30 - first)) << "first " << first;
        ASSERT_EQ(tail.contributions.size(), static_cast<std::size_t>(3 * (30 - first))) << "first " << first;
        for (std::int64_t t = first; t < 30; ++t)
            EXPECT_NEAR(tail.scores[static_cast<std::size_t>(t - first)], whole.scores[static_cast<std::size_t>(t)], 1e-6 * (1 + std::abs(whole.scores[static_cast<std::size_t>(t)])))
                << "first " << first << ", row " << t;
    }
}
