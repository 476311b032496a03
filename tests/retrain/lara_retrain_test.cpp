#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "core/statistics.h"
#include "data/synthetic.h"
#include "detect/spot.h"
#include "lara/lara.h"
#include "retrain/adjusted_model.h"
#include "support/test_support.h"

namespace {

//! A small detector trained on a synthetic service that keeps its pattern; tests change it themselves.
class LaraRetrainTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        lara::data::SyntheticConfig c;
        c.n_rows = 3000;
        c.n_metrics = 6;
        c.change_at = c.n_rows;  // no built-in change
        c.clean_until = c.n_rows;  // and no anomalies
        series_ = new lara::Series(lara::data::make_synthetic(c).series);
        const auto model = lara::test::small_model();
        lara::TrainConfig train;
        train.epochs = 12;
        detector_ = new lara::Detector(lara::Detector::train(series_->slice(0, 2000), model, train, {}));
    }
    static void TearDownTestSuite() {
        delete detector_;
        delete series_;
    }
    //! Rows [from, to) with a known affine change: every other metric scaled by `scale` and shifted by `shift`.
    static lara::Series changed(std::int64_t from, std::int64_t to, float scale, float shift) {
        auto s = series_->slice(from, to);
        for (std::int64_t t = 0; t < s.n_rows; ++t)
            for (std::int64_t j = 0; j < s.n_metrics; j += 2) {
                float& v = s.values[static_cast<std::size_t>(t * s.n_metrics + j)];
                v = scale * v + shift;
            }
        return s;
    }
    static lara::Series* series_;
    static lara::Detector* detector_;
};

lara::Series* LaraRetrainTest::series_ = nullptr;
lara::Detector* LaraRetrainTest::detector_ = nullptr;

}  // namespace

TEST_F(LaraRetrainTest, AnInfiniteRidgeGivesBackTheOldScoresExactly) {
    lara::RetrainConfig config;
    config.ridge_z = config.ridge_x = std::numeric_limits<double>::infinity();
    config.recalibrate = "keep";
    const auto [adapted, report] = detector_->retrain(changed(2000, 2043, 0.5f, 6.0f), config);
    const auto test = series_->slice(2100, 2600);
    EXPECT_EQ(adapted.score(test).scores, detector_->score(test).scores);
    EXPECT_EQ(adapted.threshold(), detector_->threshold());
    EXPECT_EQ(adapted.generation(), 1);
    // Neither map was fitted: nothing was ruminated, and a window-wide M_x is not stored as an identity.
    EXPECT_EQ(report.n_ruminated, 0);
    EXPECT_TRUE(std::isnan(report.ess_mean) && std::isnan(report.objective_z) && std::isnan(report.objective_x));
    EXPECT_TRUE(report.to_json()["ess"]["mean"].is_null());
    config.x_map = "window";
    EXPECT_EQ(detector_->retrain(changed(2000, 2043, 0.5f, 6.0f), config).first.parameter_count(), detector_->parameter_count());
}

TEST_F(LaraRetrainTest, ExactAndIterativeSolversGiveTheSameModel) {
    lara::RetrainConfig config;
    const auto data = changed(2000, 2043, 0.5f, 6.0f);
    const auto [exact, r1] = detector_->retrain(data, config);
    config.solver = "iterative";
    const auto [iterative, r2] = detector_->retrain(data, config);
    EXPECT_NEAR(r1.objective_x, r2.objective_x, 1e-7 * (1 + r1.objective_x));
    EXPECT_NEAR(r1.objective_z, r2.objective_z, 1e-7 * (1 + r1.objective_z));
    ASSERT_FALSE(r2.loss_curve_x.empty());
    const auto test = changed(2100, 2300, 0.5f, 6.0f);
    const auto a = exact.score(test).scores, b = iterative.score(test).scores;
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-2 * (1 + std::abs(a[i])));
}

TEST_F(LaraRetrainTest, AKnownAffineChangeIsLargelyRepaired) {
    // Old model on the changed pattern: scores far above its level on the old pattern. After LARA
    // on 43 changed rows, the typical score of later changed rows must come most of the way back.
    const auto old_level = lara::core::median(detector_->score(series_->slice(2100, 3000)).scores);
    const auto later = changed(2100, 3000, 0.5f, 6.0f);
    const auto broken = lara::core::median(detector_->score(later).scores);
    const auto [adapted, report] = detector_->retrain(changed(2000, 2043, 0.5f, 6.0f), lara::RetrainConfig{});
    const auto repaired = lara::core::median(adapted.score(later).scores);
    RecordProperty("old_level", std::to_string(old_level));
    RecordProperty("broken", std::to_string(broken));
    RecordProperty("repaired", std::to_string(repaired));
    EXPECT_GT(broken, old_level + 20) << "the change should break the old model";
    EXPECT_LT(repaired - old_level, 0.5 * (broken - old_level))
        << "old level " << old_level << ", broken " << broken << ", after LARA " << repaired;
    EXPECT_EQ(report.n_windows, 43 - 20 + 1);
    EXPECT_GE(report.ess_min, 1.0);
}

TEST_F(LaraRetrainTest, RuminatingAnEvenlySpacedSubsetOfManyWindowsRepairsAsWellAsRuminatingAll) {
    const auto data = changed(2000, 2300, 0.5f, 6.0f);  // 281 windows
    const auto [subset_model, subset] = detector_->retrain(data, lara::RetrainConfig{});
    lara::RetrainConfig every_window;
    every_window.ruminated_windows = data.n_rows;
    const auto [all_model, all] = detector_->retrain(data, every_window);
    EXPECT_EQ(subset.n_ruminated, 64);
    EXPECT_EQ(all.n_ruminated, 281);
    const auto later = changed(2300, 3000, 0.5f, 6.0f);
    const auto old_level = lara::core::median(detector_->score(series_->slice(2300, 3000)).scores);
    const auto broken = lara::core::median(detector_->score(later).scores);
    const auto from_subset = lara::core::median(subset_model.score(later).scores);
    const auto from_all = lara::core::median(all_model.score(later).scores);
    EXPECT_LT(from_all - old_level, 0.5 * (broken - old_level)) << "ruminating every window should repair the change";
    EXPECT_LT(std::abs(from_subset - from_all), 0.05 * (broken - old_level))
        << "old level " << old_level << ", broken " << broken << ", subset " << from_subset << ", all " << from_all;
}

TEST_F(LaraRetrainTest, ASmoothDecoderKeepsTheRuminateBlocksSampleSizeNearN) {
    // With ReLU layers the target's mode lies on a kink of the decoder and its importance weights
    // collapse (docs/method.md); with softplus layers it is smooth and the Laplace proposal fits it.
    lara::ModelConfig model = lara::ModelConfig::from_json(detector_->info()["model"]);
    ASSERT_EQ(model.activation, "softplus") << "the default";
    model.activation = "relu";
    lara::TrainConfig train;
    train.epochs = 12;
    const auto relu = lara::Detector::train(series_->slice(0, 2000), model, train, {});
    lara::RetrainConfig config;
    config.n_samples = 64;  // the ratio of the two ESS, not the default N, is what is measured
    const auto data = changed(2000, 2043, 0.5f, 6.0f);
    const auto smooth_report = detector_->retrain(data, config).second;
    const auto relu_report = relu.retrain(data, config).second;
    RecordProperty("softplus_mean_ess", std::to_string(smooth_report.ess_mean));
    RecordProperty("relu_mean_ess", std::to_string(relu_report.ess_mean));
    EXPECT_GT(smooth_report.ess_mean, 0.5 * static_cast<double>(config.n_samples));
    // Here 47.5 against 17.0 (12.2 when the Hessian was taken by finite differences, which straddle the kinks).
    EXPECT_GT(smooth_report.ess_mean, 2 * relu_report.ess_mean) << "ReLU's mean ESS " << relu_report.ess_mean;
}

TEST_F(LaraRetrainTest, RetrainingTwiceKeepsTheSizeAndSurvivesSaveAndLoad) {
    const auto [once, r1] = detector_->retrain(changed(2000, 2043, 0.5f, 6.0f), lara::RetrainConfig{});
    lara::RetrainConfig window_map;
    window_map.x_map = "window";  // composing a per-step map with a window map lifts it
    const auto [twice, r2] = once.retrain(changed(2200, 2243, 0.25f, 3.0f), window_map);
    EXPECT_EQ(once.parameter_count(), detector_->parameter_count());
    const auto [again, r3] = once.retrain(changed(2200, 2243, 0.25f, 3.0f), lara::RetrainConfig{});
    EXPECT_EQ(again.parameter_count(), once.parameter_count());
    EXPECT_EQ(twice.generation(), 2);
    lara::test::TempDir dir;
    twice.save(dir.file("twice.lara"));
    const auto loaded = lara::Detector::load(dir.file("twice.lara"));
    const auto test = changed(2300, 2500, 0.25f, 3.0f);
    EXPECT_EQ(loaded.score(test).scores, twice.score(test).scores);
    EXPECT_EQ(loaded.info()["history"].size(), 2u);
}

TEST_F(LaraRetrainTest, TheMlpMapAblationRepairsTheChangeButIsNeitherSavedNorComposed) {
    const auto later = changed(2100, 3000, 0.5f, 6.0f);
    const auto old_level = lara::core::median(detector_->score(series_->slice(2100, 3000)).scores);
    const auto broken = lara::core::median(detector_->score(later).scores);
    lara::RetrainConfig config;
    config.maps = "mlp";
    const auto [adapted, report] = detector_->retrain(changed(2000, 2043, 0.5f, 6.0f), config);
    const auto repaired = lara::core::median(adapted.score(later).scores);
    EXPECT_LT(repaired - old_level, 0.5 * (broken - old_level))
        << "old level " << old_level << ", broken " << broken << ", with MLP maps " << repaired;
    EXPECT_GT(adapted.parameter_count(), detector_->parameter_count());
    lara::test::TempDir dir;
    EXPECT_THROW(adapted.save(dir.file("mlp.lara")), lara::Error);
    EXPECT_THROW(adapted.retrain(changed(2200, 2243, 0.5f, 6.0f), lara::RetrainConfig{}), lara::Error);
    lara::RetrainConfig renorm;
    renorm.method = "renorm";
    EXPECT_THROW(adapted.retrain(changed(2200, 2243, 0.5f, 6.0f), renorm), lara::Error);  // no method retrains it

    // An infinite ridge keeps the identity here too.
    config.ridge_z = config.ridge_x = std::numeric_limits<double>::infinity();
    config.recalibrate = "keep";
    const auto [unchanged, r2] = detector_->retrain(changed(2000, 2043, 0.5f, 6.0f), config);
    EXPECT_EQ(unchanged.score(later).scores, detector_->score(later).scores);
}

TEST_F(LaraRetrainTest, RecalibrationScoresEachNewRowByTheWindowEndingAtIt) {
    // With the w − 1 rows before the new ones as context, each new row is scored as detection
    // scores it; with an infinite ridge the model is the old one, so those are its scores.
    const auto w = detector_->model_config().window;
    const auto rows = series_->slice(2000 - (w - 1), 2043);
    const auto scores = detector_->score(rows, w - 1).scores;
    ASSERT_EQ(scores.size(), 43u);
    const auto before = detector_->info()["threshold"];
    lara::RetrainConfig config;
    config.ridge_z = config.ridge_x = std::numeric_limits<double>::infinity();
    const auto [adapted, report] = detector_->retrain(rows, config, w - 1);
    EXPECT_EQ(report.n_rows, 43);
    const double median = lara::core::median(scores), old_median = before["score_median"], old_threshold = before["value"];
    EXPECT_NEAR(adapted.threshold(), median + (old_threshold - old_median), 1e-9 * (1 + std::abs(median)));
    // The median and spread stored are both the new rows' (a later `scale` divides by that spread).
    EXPECT_NEAR(adapted.info()["threshold"]["score_mad"].get<double>(), lara::core::median_absolute_deviation(scores), 1e-12);
    // Without context the first w − 1 rows take inner steps of the first window: other scores.
    EXPECT_NE(detector_->retrain(series_->slice(2000, 2043), config).first.threshold(), adapted.threshold());
    EXPECT_THROW(detector_->retrain(rows, config, rows.n_rows), lara::Error);
}

TEST_F(LaraRetrainTest, ScaleRecalibrationKeepsTheThresholdsDistanceInUnitsOfSpread) {
    // With an infinite ridge the model is unchanged, so the new rows' scores are the old model's.
    const auto rows = changed(2000, 2043, 0.5f, 6.0f);
    const auto scores = detector_->score(rows).scores;
    const auto before = detector_->info()["threshold"];
    lara::RetrainConfig config;
    config.ridge_z = config.ridge_x = std::numeric_limits<double>::infinity();
    config.recalibrate = "scale";
    const auto [adapted, report] = detector_->retrain(rows, config);
    const double median = lara::core::median(scores), mad = lara::core::median_absolute_deviation(scores);
    const double old_median = before["score_median"], old_mad = before["score_mad"], old_threshold = before["value"];
    ASSERT_GT(old_mad, 0.0);
    EXPECT_NEAR(adapted.threshold(), median + (old_threshold - old_median) * mad / old_mad, 1e-9 * (1 + std::abs(median)));
    // shift keeps the distance in nats instead.
    config.recalibrate = "shift";
    EXPECT_NEAR(detector_->retrain(rows, config).first.threshold(), median + (old_threshold - old_median), 1e-9 * (1 + std::abs(median)));
    // The spread travels with the model file, so a second retraining can scale again.
    lara::test::TempDir dir;
    adapted.save(dir.file("scaled.lara"));
    EXPECT_DOUBLE_EQ(lara::Detector::load(dir.file("scaled.lara")).info()["threshold"]["score_mad"].get<double>(), mad);
}

TEST_F(LaraRetrainTest, WarmupRecalibrationFitsSpotOnTheFirstScoredRows) {
    lara::RetrainConfig config;
    config.recalibrate = "warmup";
    config.warmup_rows = 200;
    const auto [adapted, report] = detector_->retrain(changed(2000, 2043, 0.5f, 6.0f), config);
    const auto result = adapted.score(changed(2100, 2600, 0.5f, 6.0f));
    // Independently: SPOT on the first 200 scores, its initial quantile lowered to keep 20 peaks.
    const std::vector<double> first(result.scores.begin(), result.scores.begin() + 200);
    const auto spot = lara::detect::fit_spot(first, lara::ThresholdConfig{}.risk, 1.0 - 20.0 / 200.0);
    EXPECT_DOUBLE_EQ(result.threshold, spot.threshold);
    for (std::size_t t = 0; t < result.scores.size(); ++t) EXPECT_EQ(result.anomalies[t], result.scores[t] > spot.threshold ? 1 : 0);
    // The stored threshold no longer applies: the report and info say so instead of showing it.
    EXPECT_TRUE(report.to_json()["threshold"]["after"].is_null());
    EXPECT_EQ(report.to_json()["threshold"]["warmup_rows"], 200);
    lara::test::TempDir dir;
    adapted.save(dir.file("warm.lara"));
    const auto info = lara::Detector::load(dir.file("warm.lara")).info()["threshold"];
    EXPECT_EQ(info["warmup_rows"], 200);
    EXPECT_TRUE(info["value"].is_null());
    // Retrained again with `keep`, it stays a warm-up model: the stored threshold is not this one's.
    config.recalibrate = "keep";
    const auto [kept, kept_report] = adapted.retrain(changed(2043, 2086, 0.5f, 6.0f), config);
    EXPECT_EQ(kept.info()["threshold"]["warmup_rows"], 200);
    EXPECT_TRUE(kept_report.to_json()["threshold"]["after"].is_null());
    const auto kept_result = kept.score(changed(2100, 2600, 0.5f, 6.0f));
    const std::vector<double> kept_first(kept_result.scores.begin(), kept_result.scores.begin() + 200);
    EXPECT_DOUBLE_EQ(kept_result.threshold, lara::detect::fit_spot(kept_first, lara::ThresholdConfig{}.risk, 1.0 - 20.0 / 200.0).threshold);
    // A scored series too short for the fit is refused with what to do about it.
    try {
        adapted.score(changed(2100, 2139, 0.5f, 6.0f));
        ADD_FAILURE() << "39 rows were fitted";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::data);
        EXPECT_NE(std::string(e.what()).find("score at least 40 rows"), std::string::npos) << e.what();
    }
}

TEST_F(LaraRetrainTest, WarmupRecalibrationRefusesAFixedThreshold) {
    // A fixed threshold has no SPOT fit to redo on the first rows of each series.
    lara::ThresholdConfig fixed;
    fixed.method = "fixed";
    fixed.value = 5;
    lara::TrainConfig train;
    train.epochs = 1;
    const auto model = lara::Detector::train(series_->slice(0, 300), detector_->model_config(), train, fixed);
    lara::RetrainConfig config;
    config.recalibrate = "warmup";
    try {
        model.retrain(changed(2000, 2043, 0.5f, 6.0f), config);
        ADD_FAILURE() << "retrained with warmup";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("fixed"), std::string::npos) << e.what();
    }
    config.recalibrate = "shift";
    EXPECT_NO_THROW(model.retrain(changed(2000, 2043, 0.5f, 6.0f), config));
}

TEST(AdjustedModel, ComposedMapsEqualApplyingBothInTurn) {
    const auto c = lara::test::tiny_model();
    torch::manual_seed(0);
    auto vae = lara::model::make_vae(c);
    torch::NoGradGuard no_grad;
    const lara::retrain::AdjustedModel base(vae);
    const lara::retrain::AffineMap z1{torch::randn({2, 2}), torch::randn({2})}, z2{torch::randn({2, 2}), torch::randn({2})};
    const lara::retrain::AffineMap x1{torch::randn({3, 3}), torch::randn({3})};
    const lara::retrain::AffineMap x2{torch::randn({15, 15}), torch::randn({15})};  // over the window
    const auto composed = base.composed_with(z1, x1).composed_with(z2, x2);
    EXPECT_EQ(composed.z_map().size(), 2);
    EXPECT_EQ(composed.x_map().size(), 15);
    const auto x = torch::randn({4, 5, 3});
    EXPECT_TRUE(torch::allclose(composed.encode(x).mean, z2.apply(z1.apply(vae->encode(x).mean)), 1e-4, 1e-4));
    const auto z = torch::randn({4, 2});
    const auto nested = x2.apply(x1.apply(vae->decode(z).mean).flatten(1)).view({4, 5, 3});
    EXPECT_TRUE(torch::allclose(composed.decode(z).mean, nested, 1e-4, 1e-4));
    EXPECT_TRUE(torch::allclose(composed.decode_last(z).mean, nested.select(1, -1), 1e-4, 1e-4));
}

TEST(AdjustedModel, VariancesPassThroughTheMapsAndStayAboveTheFloor) {
    // An affine map y = A u + b of independent components with variances v has variances
    // diag(A diag(v) Aᵀ), formed here in float64; the decoder's are floored at min_std² after the map.
    const auto c = lara::test::tiny_model();
    torch::manual_seed(0);
    auto vae = lara::model::make_vae(c);
    torch::NoGradGuard no_grad;
    const lara::retrain::AdjustedModel base(vae);
    const lara::retrain::AffineMap z1{torch::randn({2, 2}), torch::randn({2})}, x1{torch::randn({3, 3}), torch::randn({3})};
    const auto adjusted = base.composed_with(z1, x1);
    const auto through = [](const torch::Tensor& A, const torch::Tensor& var) {  // var [n] → [n]
        const auto A64 = A.to(torch::kFloat64);
        return torch::diagonal(torch::matmul(torch::matmul(A64, torch::diag(var.to(torch::kFloat64))), A64.t()));
    };
    const double floor = c.min_std * c.min_std;

    const auto x = torch::randn({4, 5, 3});
    const auto q = vae->encode(x), got_q = adjusted.encode(x);
    const auto z = torch::randn({4, 2});
    const auto p = vae->decode(z), got_p = adjusted.decode(z);
    for (std::int64_t k = 0; k < 4; ++k) {
        EXPECT_TRUE(torch::allclose(got_q.var[k].to(torch::kFloat64), through(z1.A, q.var[k]), 1e-5, 1e-7)) << "window " << k;
        for (std::int64_t t = 0; t < 5; ++t)
            EXPECT_TRUE(torch::allclose(got_p.var[k][t].to(torch::kFloat64), through(x1.A, p.var[k][t]).clamp_min(floor), 1e-5, 1e-7))
                << "window " << k << ", step " << t;
    }

    // A window map that shrinks every value a thousandfold leaves every variance at the floor.
    const auto shrunk = base.composed_with(lara::retrain::AffineMap::identity(2), {1e-3 * torch::eye(15), torch::zeros({15})});
    ASSERT_TRUE(shrunk.x_map_over_window());
    EXPECT_TRUE(torch::equal(shrunk.decode(z).var, torch::full({4, 5, 3}, floor)));
}
