// api/experiment_plan.h: `lara experiment`'s spec made into a plan before anything is trained
// (defaults filled in, every option checked, every entity's files found), and what each method
// name means for the retraining it runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lara/config.h"
#include "lara/experiment.h"

namespace lara {

//! The four files of one entity; interpretation is empty when the data set has none.
struct EntityFiles {
    std::string name, train, test, labels, interpretation;
};

struct ExperimentPlan {
    ExperimentSpec spec;  // protocol, new_rows and methods resolved
    std::filesystem::path out;
    std::vector<EntityFiles> entities;
    bool hit_rates = false;    // the data set has interpretation labels
    bool jumpstarter = false;  // JumpStarter Dataset2: the summary splits the services
    std::string plot_entity;
};

//! Throws lara::Error: usage for a bad spec, an unknown entity or method; data for a missing
//! data set folder or file, or a test file without labels.
ExperimentPlan make_plan(const ExperimentSpec& spec);

//! What decides the numbers of an entity file; a rerun into the same folder must match it, or the
//! summary would mix results of different settings. The entities are left out so that a run can
//! be split over several invocations.
std::string settings_json(const ExperimentPlan& plan);

//! The first scored test row: R, and under standard after the K new rows taken from the test file.
std::int64_t first_scored_row(const ExperimentSpec& s, std::int64_t new_rows);
bool is_sweep(const ExperimentSpec& s);

//! Methods that retrain the old model (the others train a model of their own, or are `old`).
bool is_retrain_method(const std::string& method);
//! The retraining config of a method: the spec's, with the method's switch (for the ablations).
RetrainConfig retrain_config(const RetrainConfig& base, const std::string& method, std::uint64_t seed);
//! The training config of `full` (and of the bench's full training run): the spec's without early
//! stopping. Its latest windows, the ones early stopping holds out, are the new pattern's; their loss
//! rises as soon as the model learns the old pattern, which stopped training after its first epoch.
TrainConfig full_training_config(const TrainConfig& base);
//! The JumpStarter Dataset2 services whose pattern changes (data README).
bool changes_pattern(const std::string& service);

//! service2 before service10: runs of digits compare as numbers.
bool natural_less(const std::string& a, const std::string& b);
std::string joined(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace lara
