// api/experiment_figures.h: the pictures of `lara experiment` (SVG, drawn by eval/svg_chart.h):
// one entity's series, scores, thresholds and labels for every model; F1 against K; the time
// each method takes to make its model.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lara/experiment.h"
#include "lara/lara.h"

namespace lara {

//! The test series (its first metrics, z-scored), then one panel per model with its scores and
//! threshold; labelled segments are shaded everywhere, and the axis says from which row on the
//! rows are scored. Scores above their 99.5th percentile (or well above the threshold) are clipped
//! so that one spike does not flatten the rest.
std::string entity_figure(const std::string& title, const Series& test, const std::vector<int>& labels, std::int64_t first_scored,
                          const std::vector<std::pair<std::string, ScoreResult>>& models);

//! Mean point-wise F1 (and, apart, best F1, which uses test labels) of each method against K.
std::string f1_against_k_figure(const std::string& title, const std::vector<ExperimentRow>& rows);

//! Mean wall time of each method's training or retraining, on a log axis.
std::string retraining_time_figure(const std::string& title, const std::vector<ExperimentRow>& rows);

}  // namespace lara
