#include <gtest/gtest.h>

#include "data/normalizer.h"
#include "lara/error.h"
#include "model/trainer.h"
#include "model/vae.h"
#include "support/test_support.h"

namespace {

lara::ModelConfig small_config(const std::string& arch, std::int64_t d) {
    lara::ModelConfig c;
    c.arch = arch;
    c.window = 8;
    c.n_metrics = d;
    c.latent = 3;
    c.hidden = 16;
    return c;
}

}  // namespace

TEST(Windows, SlidingWindowsMatchDirectIndexing) {
    const auto series = torch::arange(30, torch::kFloat32).view({10, 3});
    const auto windows = lara::model::sliding_windows(series, 4);
    ASSERT_EQ(windows.sizes(), (std::vector<std::int64_t>{7, 4, 3}));
    for (std::int64_t k = 0; k < 7; ++k)
        for (std::int64_t t = 0; t < 4; ++t)
            for (std::int64_t j = 0; j < 3; ++j)
                EXPECT_EQ(windows[k][t][j].item<float>(), series[k + t][j].item<float>());
}

class VaeArch : public ::testing::TestWithParam<std::string> {};

TEST_P(VaeArch, EncoderAndDecoderAreSeparatelyCallableWithTheRightShapes) {
    torch::manual_seed(1);
    auto vae = lara::model::make_vae(small_config(GetParam(), 5));
    const auto x = torch::randn({6, 8, 5});
    const auto q = vae->encode(x);
    EXPECT_EQ(q.mean.sizes(), (std::vector<std::int64_t>{6, 3}));
    EXPECT_TRUE((q.var > 0).all().item<bool>());
    const auto z = lara::model::Vae::sample(q, 4);
    EXPECT_EQ(z.sizes(), (std::vector<std::int64_t>{4, 6, 3}));
    const auto p = vae->decode(q.mean);
    EXPECT_EQ(p.mean.sizes(), x.sizes());
    EXPECT_TRUE((p.var >= 0.05 * 0.05 - 1e-7).all().item<bool>());  // the min_std floor
    // The last-step shortcut scoring uses must agree with the full decoder.
    const auto last = vae->decode_last(q.mean);
    EXPECT_TRUE(torch::allclose(last.mean, p.mean.select(1, -1), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(last.var, p.var.select(1, -1), 1e-5, 1e-6));
}

TEST_P(VaeArch, ElboRisesWhileTrainingOnARealSeries) {
    LARA_REQUIRE_DATA();
    auto series = lara::read_series((lara::test::data_dir() / "jumpstarter/Dataset2/train/service3.csv").string(), {0, 1500});
    const auto values = lara::data::Normalizer::fit(series).transform(series);
    const auto tensor = torch::from_blob(const_cast<float*>(values.data()), {series.n_rows, series.n_metrics}).clone();
    auto config = small_config(GetParam(), series.n_metrics);
    torch::manual_seed(0);
    auto vae = lara::model::make_vae(config);
    const auto windows = lara::model::sliding_windows(tensor, config.window).contiguous();
    const double before = lara::model::mean_loss(*vae, windows);
    lara::TrainConfig train;
    train.epochs = 8;
    train.batch = 64;
    const auto history = lara::model::train_vae(*vae, windows, train);
    const double after = lara::model::mean_loss(*vae, windows);
    EXPECT_LT(history.train_loss.back(), history.train_loss.front());
    EXPECT_LT(after, before - 0.5) << "negative ELBO per element went from " << before << " to " << after;
}

TEST_P(VaeArch, TrainingIsDeterministicForASeed) {
    const auto data = torch::sin(torch::arange(400, torch::kFloat32) / 7.0).view({100, 4});
    const auto windows = lara::model::sliding_windows(data, 8).contiguous();
    lara::TrainConfig train;
    train.epochs = 2;
    train.batch = 16;
    train.seed = 42;
    std::vector<torch::Tensor> weights[2];
    for (auto& w : weights) {
        torch::manual_seed(train.seed);
        auto vae = lara::model::make_vae(small_config(GetParam(), 4));
        lara::model::train_vae(*vae, windows, train);
        for (const auto& p : vae->parameters()) w.push_back(p.detach().clone());
    }
    for (std::size_t i = 0; i < weights[0].size(); ++i) EXPECT_TRUE(torch::equal(weights[0][i], weights[1][i]));
}

TEST_P(VaeArch, WeightsExportAndImportExactlyAndRefuseAWrongShape) {
    torch::manual_seed(3);
    auto a = lara::model::make_vae(small_config(GetParam(), 4));
    torch::manual_seed(4);
    auto b = lara::model::make_vae(small_config(GetParam(), 4));
    lara::model::import_weights(*b, lara::model::export_weights(*a));
    const auto pa = a->parameters(), pb = b->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
    auto c = lara::model::make_vae(small_config(GetParam(), 5));
    EXPECT_THROW(lara::model::import_weights(*c, lara::model::export_weights(*a)), lara::Error);
}

INSTANTIATE_TEST_SUITE_P(Both, VaeArch, ::testing::Values("mlp", "gru"));
