#include "common.h"

#include <limits>

#include "lara/evaluate.h"

namespace lara::cli {

void add_evaluate(CLI::App& app) {
    auto spec = std::make_shared<EvaluateSpec>();
    auto* cmd = app.add_subcommand("evaluate", "print a JSON summary of a score file's accuracy against labels");
    cmd->add_option("--scores", spec->scores, "CSV written by lara score")->required();
    cmd->add_option("--labels", spec->labels, "0/1 labels, one per data row of the scored file")->required();
    auto* interpretation =
        cmd->add_option("--interpretation", spec->interpretation, "interpretation labels a-b:d1,d2,... (adds HitRate@P%)");
    // A score file ranks only the top metrics, so the count that bounds the dimensions is given here.
    cmd->add_option("--metrics", spec->n_metrics, "metrics of the scored file: a dimension past it is an error")
        ->check(CLI::Range(1, std::numeric_limits<int>::max()))
        ->needs(interpretation);
    cmd->callback([spec] { write_output("", evaluate(*spec).dump(2) + "\n"); });
}

}  // namespace lara::cli
