// lara/experiment.h: the benchmark harness behind `lara experiment`. For every entity of a data
// set folder it trains the old model, retrains it with each method, scores the test file and
// writes one CSV row per entity × method × seed, then a summary (docs/evaluation.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lara/config.h"

namespace lara {

struct ExperimentSpec {
    //! Folder with train/, test/, test_label/ and optionally interpretation_label/, each holding
    //! one file <entity>.<ext> per entity (the data README's layout).
    std::string dataset;
    std::vector<std::string> entities;  // empty: every file in dataset/train
    //! shift: old model on train rows [0, T−K), retraining on train rows [T−K, T), every model
    //! scores the test file. standard: old model on the whole train file; with K > 0 the first K
    //! test rows are the new rows and only the rest is scored.
    std::string protocol = "shift";
    //! K, one value or several for a sweep (each K is run in turn, and summary.md and the pictures
    //! show F1 against K); empty: 43 under shift, none under standard. Under standard every K
    //! retrains the same old model; give eval_from ≥ the largest K so that every K scores the same rows.
    std::vector<std::int64_t> new_rows;
    //! Any of old, lara, finetune, scratch, renorm, full, oracle, and the ablations of LARA
    //! lara-no-ruminate (z̃ = encoder mean), lara-z-only, lara-x-only, lara-mlp (non-linear maps);
    //! empty: every one the protocol allows, no ablation. A `random` row is always added.
    std::vector<std::string> methods;
    std::int64_t seeds = 1;             // seeds 0 … seeds−1
    std::int64_t eval_from = 0;         // R: score test rows [R, end) only; oracle trains on [0, R)
    //! Entities run in parallel. Every model runs on one thread (LibTorch's and OpenBLAS's, which
    //! this sets for the process), so the numbers do not depend on jobs: give it the core count.
    int jobs = 1;
    std::string out = "experiment-out";
    //! The entity whose series, scores, thresholds and labels are drawn (out/figures/); empty: the first.
    std::string plot_entity;
    ModelConfig model;                  // n_metrics comes from the data
    TrainConfig train;                  // every training; seed is set per run
    RetrainConfig retrain;              // every retraining; method and seed are set per run
    std::string command;                // the command line, shown at the top of summary.md
};

//! One line of results.csv. NaN where a metric is undefined: recall, f1, best_f1, pa_f1, auc_pr
//! and the hit rates when no scored row is labelled; the hit rates also without interpretation labels.
struct ExperimentRow {
    std::string entity, method;
    std::uint64_t seed = 0;
    std::int64_t new_rows = 0;                               // K
    std::int64_t n_rows = 0, n_labelled = 0, n_flagged = 0;  // scored rows, labelled ones, flagged ones
    double precision = 0, recall = 0, f1 = 0;  // point-wise, the model's label-free threshold
    double best_f1 = 0;                        // picks the threshold with the test labels
    double pa_f1 = 0;                          // point-adjusted: inflated
    double auc_pr = 0;
    double hitrate_100 = 0, hitrate_150 = 0;
    double wall_ms = 0, peak_rss_mib = 0;      // the (re)training that made the model; 0 for random
    double first_epoch_kept = 0;               // 1: early stopping kept the first epoch of its training (lara train warns)
};

struct ExperimentReport {
    std::vector<ExperimentRow> rows;               // every row of results.csv, this run's and earlier ones'
    std::vector<std::string> computed, skipped;    // entities run now, and those found finished
    std::string results_csv, summary_md;           // the files written
    std::vector<std::string> figures;              // the SVG pictures written by this run
    double seconds = 0;
};

//! Runs the experiment and writes out/entities/<entity>.csv per finished entity (atomically; a
//! rerun skips entities whose file exists), then out/results.csv, out/summary.md and the pictures
//! out/figures/*.svg (the plotted entity's when it is computed in this run) from every entity file. `log` gets progress lines, one call at a time. Throws lara::Error: usage for a bad
//! spec, an unknown entity or method, or an out folder holding results of other settings; data for
//! a missing data set folder or file, or a test file without labels.
ExperimentReport run_experiment(const ExperimentSpec& spec, const std::function<void(const std::string&)>& log = {});

//! Two runs of `lara experiment` (their results.csv files), run A against run B: for each K and
//! each method of `methods` (default: every method both have but `random`), the rows of A against
//! the rows of B with the same entity, seed and K, paired (docs/evaluation.md). Answers "did this
//! setting help?" across runs that differ in a setting a method cannot vary within one run (the
//! activation, the proposal, the threshold rule). `entities` restricts the entities compared.
//! Returns markdown. Throws lara::Error: data for a file that is not a results.csv (naming the
//! file and line), data when no row of A pairs with one of B or the pairs have no F1 (no labelled
//! scored rows); usage for a method or entity asked for that a file lacks.
std::string compare_experiments(const std::string& results_a, const std::string& results_b,
                                const std::vector<std::string>& methods = {}, const std::vector<std::string>& entities = {});

}  // namespace lara
