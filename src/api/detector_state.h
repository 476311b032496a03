// The state behind lara::Detector; private to the api layer.
#pragma once

#include "data/normalizer.h"
#include "lara/lara.h"
#include "retrain/adjusted_model.h"

namespace lara {

struct Detector::State {
    State(ModelConfig m, TrainConfig t, ThresholdConfig th, data::Normalizer n, retrain::AdjustedModel a)
        : model(std::move(m)), train(std::move(t)), threshold_config(std::move(th)), normalizer(std::move(n)), adjusted(std::move(a)) {}

    ModelConfig model;
    TrainConfig train;
    ThresholdConfig threshold_config;
    data::Normalizer normalizer;
    retrain::AdjustedModel adjusted;
    double threshold = 0;
    double score_median = 0;      // median score of the rows the threshold was last set on
    double score_mad = 0;         // their median absolute deviation; 0 in files older than it
    nlohmann::json threshold_fit; // SPOT's fit (t, γ, σ, peaks) when method = spot
    std::int64_t warmup_rows = 0; // > 0: score() fits SPOT on the first warmup_rows scores of each series
    std::vector<std::string> metric_names;  // the training file's header; empty without one (or in files before it was kept)
    nlohmann::json training;      // what training did: rows, epochs, losses, seconds
    nlohmann::json history = nlohmann::json::array();  // one entry per retraining
    std::int64_t generation = 0;
    std::uint32_t format_version = 0; // of the file it was loaded from; 0 when built in memory
    std::string written_by;           // the lara that wrote that file ("" when built in memory, or before it was recorded)
};

//! Whether early stopping kept the first of several epochs, from a training's info (the "training"
//! object of info()): what `lara train` warns of, and what an experiment counts.
bool kept_first_epoch(const nlohmann::json& training);
//! Refuses a series whose header names the model's metrics in another order (lara::Error, data).
void check_metric_order(const Detector::State& s, const Series& series);
//! The scores of a series' rows [first, n_rows), before any threshold: what Detector::score() and
//! StreamScorer share.
ScoreResult score_unthresholded(const Detector::State& s, const Series& series, std::int64_t first = 0);
//! The threshold a series whose first scores are `scores` is compared with: the stored one, or
//! after a warm-up recalibration SPOT on the first warmup_rows of them.
double series_threshold(const Detector::State& s, const std::vector<double>& scores, const std::string& source);
//! The k metrics with the largest of n_metrics contributions, largest first (ties: lower index).
std::vector<int> largest_contributions(const float* contributions, std::int64_t n_metrics, int k);

}  // namespace lara
