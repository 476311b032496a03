#include <array>
#include <cmath>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include "data/normalizer.h"
#include "lara/error.h"
#include "model/random.h"
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

TEST(MlpVae, EveryActivationOfTheListBuildsItsOwnLayers) {
    const auto x = torch::randn({2, 8, 5});
    std::vector<torch::Tensor> means;
    for (const auto& name : lara::kActivations) {
        auto config = small_config("mlp", 5);
        config.activation = name;
        lara::model::seed_thread_random(1);  // the same weights for every activation
        auto vae = lara::model::make_vae(config);
        means.push_back(vae->encode(x).mean);
        for (std::size_t i = 0; i + 1 < means.size(); ++i)
            EXPECT_FALSE(torch::allclose(means[i], means.back())) << name << " gives the encoder of " << lara::kActivations[i];
    }
}

//! Without autograd the MLP decodes through BLAS products (model/mlp_decoder.h): the same function
//! as its LibTorch layers, to rounding, for every activation, in float32 and float64.
TEST(MlpVae, DecodingWithoutAutogradIsTheLayersFunctionToRounding) {
    for (const auto& name : lara::kActivations) {
        for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
            auto config = small_config("mlp", 5);
            config.activation = name;
            lara::model::seed_thread_random(2);
            auto vae = lara::model::make_vae(config);
            vae->to(dtype);
            const auto z = 3 * torch::randn({7, 3}, dtype);  // far enough out that softplus layers leave their linear part
            const auto with_layers = vae->decode(z);
            torch::NoGradGuard no_grad;
            const auto by_blas = vae->decode(z);
            const double tolerance = dtype == torch::kFloat32 ? 1e-6 : 1e-14;
            for (const auto& [got, want] : {std::pair{by_blas.mean, with_layers.mean}, std::pair{by_blas.var, with_layers.var}}) {
                ASSERT_EQ(got.sizes(), want.sizes()) << name;
                EXPECT_LT(((got - want).norm() / want.norm()).item<double>(), tolerance) << name << " in " << dtype;
            }
        }
    }
}

TEST(MlpVae, ADecoderInAnotherPrecisionIsRefusedWithoutAutograd) {
    auto vae = lara::model::make_vae(small_config("mlp", 5));
    vae->to(torch::kFloat16);
    torch::NoGradGuard no_grad;
    try {
        vae->decode(torch::zeros({2, 3}, torch::kFloat16));
        ADD_FAILURE() << "a float16 decoder ran through BLAS";
    } catch (const lara::Error& e) {
        EXPECT_NE(std::string(e.what()).find("float32 or float64"), std::string::npos) << e.what();
    }
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
    lara::model::seed_thread_random(0);
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
    const auto trained = [&] {
        lara::model::seed_thread_random(train.seed);
        auto vae = lara::model::make_vae(small_config(GetParam(), 4));
        lara::model::train_vae(*vae, windows, train);
        std::vector<torch::Tensor> weights;
        for (const auto& p : vae->parameters()) weights.push_back(p.detach().clone());
        return weights;
    };
    // One intra-op thread, as `lara experiment --jobs N` uses, so that only the generators can differ.
    const int threads = torch::get_num_threads();
    torch::set_num_threads(1);
    const auto alone = trained();
    const auto again = trained();
    // Two threads training at once, while this one draws from its own generator in between.
    std::vector<torch::Tensor> parallel[2];
    std::thread first([&] { parallel[0] = trained(); }), second([&] { parallel[1] = trained(); });
    for (int i = 0; i < 50; ++i) torch::randn({100}, lara::model::thread_random());
    first.join();
    second.join();
    torch::set_num_threads(threads);
    ASSERT_EQ(alone.size(), again.size());
    for (std::size_t i = 0; i < alone.size(); ++i) {
        EXPECT_TRUE(torch::equal(alone[i], again[i]));
        EXPECT_TRUE(torch::equal(alone[i], parallel[0][i])) << "parameter " << i << " differs when trained in a thread";
        EXPECT_TRUE(torch::equal(alone[i], parallel[1][i])) << "parameter " << i << " differs when trained in a thread";
    }
}

TEST_P(VaeArch, ANonFiniteLossStopsTrainingWithAnError) {
    auto data = torch::sin(torch::arange(400, torch::kFloat32) / 7.0).view({100, 4});
    data[50][1] = std::numeric_limits<float>::quiet_NaN();
    lara::TrainConfig train;
    train.epochs = 2;
    auto vae = lara::model::make_vae(small_config(GetParam(), 4));
    try {
        lara::model::train_vae(*vae, lara::model::sliding_windows(data, 8), train);
        FAIL() << "trained on a NaN";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::internal);
        EXPECT_NE(std::string(e.what()).find("not finite at epoch 1"), std::string::npos) << e.what();
    }
}

TEST_P(VaeArch, DifferentSeedsGiveDifferentInitialWeights) {
    lara::model::seed_thread_random(1);
    auto a = lara::model::make_vae(small_config(GetParam(), 4));
    lara::model::seed_thread_random(2);
    auto b = lara::model::make_vae(small_config(GetParam(), 4));
    const auto pa = a->parameters(), pb = b->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) {
        EXPECT_FALSE(torch::equal(pa[i], pb[i])) << "parameter " << i;
        // LibTorch's default bounds: every value within ±1/sqrt(fan_in) (the GRU's: ±1/sqrt(hidden)).
        EXPECT_LE(pa[i].abs().max().item<double>(), 1.0 / std::sqrt(3.0) + 1e-6);
    }
}

TEST_P(VaeArch, WeightsExportAndImportExactlyAndRefuseAWrongShape) {
    lara::model::seed_thread_random(3);
    auto a = lara::model::make_vae(small_config(GetParam(), 4));
    lara::model::seed_thread_random(4);
    auto b = lara::model::make_vae(small_config(GetParam(), 4));
    lara::model::import_weights(*b, lara::model::export_weights(*a));
    const auto pa = a->parameters(), pb = b->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
    auto c = lara::model::make_vae(small_config(GetParam(), 5));
    EXPECT_THROW(lara::model::import_weights(*c, lara::model::export_weights(*a)), lara::Error);
}

TEST_P(VaeArch, WeightCountIsWhatMakeVaeBuilds) {
    // A model file is checked against weight_count before a network is built: it must not drift
    // from the layers themselves.
    for (const auto [d, window, latent, hidden] : {std::array<std::int64_t, 4>{1, 2, 1, 1}, {4, 8, 3, 16}, {19, 40, 8, 100}}) {
        auto config = small_config(GetParam(), d);
        config.window = window;
        config.latent = latent;
        config.hidden = hidden;
        std::int64_t built = 0;
        for (const auto& p : lara::model::make_vae(config)->parameters()) built += p.numel();
        EXPECT_EQ(lara::model::weight_count(config), built) << "d " << d << ", w " << window << ", m " << latent << ", h " << hidden;
    }
}

INSTANTIATE_TEST_SUITE_P(Both, VaeArch, ::testing::Values("mlp", "gru"));
