// api/experiment_report.h: what `lara experiment` writes from its rows: the lines of results.csv
// (and of the per-entity files it is rebuilt from) and summary.md (docs/evaluation.md).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "api/experiment_plan.h"
#include "lara/experiment.h"

namespace lara {

//! The header line; the hit-rate columns only when the data set has interpretation labels.
std::string csv_header(bool hit_rates);
//! One line; an undefined metric (NaN) is an empty field.
std::string csv_row(const ExperimentRow& row, bool hit_rates);
//! The rows of an entity file or a results.csv (the same columns), `text` read from `name`;
//! `hit_rates` says which header it must have. Throws lara::Error (data) naming the file and line
//! for a foreign header, a wrong field count or a non-number.
std::vector<ExperimentRow> parse_rows(const std::string& text, const std::string& name, bool hit_rates);
//! parse_rows of an entity file; also throws when it cannot be read.
std::vector<ExperimentRow> read_entity_file(const std::filesystem::path& path, bool hit_rates);

//! The lines of a markdown table under kPairedHeader: each method of `rows` against the row of
//! `baseline` with the same entity, seed and K, paired (eval/paired.h): the mean difference in f1
//! and best_f1 with a 95% bootstrap interval over entities, and entities better / worse; "" when
//! nothing pairs.
std::string paired_lines(const std::vector<ExperimentRow>& rows, const std::vector<ExperimentRow>& baseline);
inline const char* const kPairedHeader =
    "| method | entities | Δ f1 [95% interval] | better / worse | Δ best_f1 [95% interval] | better / worse |\n"
    "|---|---|---|---|---|---|\n";

//! summary.md: the command, the version, the settings, then mean ± sd per method, per group of
//! entities and per K. `started_by`: the version that began the folder, when another one did.
std::string summary(const ExperimentPlan& plan, const std::vector<ExperimentRow>& rows, const std::string& started_by = "");

}  // namespace lara
