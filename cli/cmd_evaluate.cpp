#include "common.h"

#include "lara/evaluate.h"

namespace lara::cli {

void add_evaluate(CLI::App& app) {
    auto spec = std::make_shared<EvaluateSpec>();
    auto* cmd = app.add_subcommand("evaluate", "print a JSON summary of a score file's accuracy against labels");
    cmd->add_option("--scores", spec->scores, "CSV written by lara score")->required();
    cmd->add_option("--labels", spec->labels, "0/1 labels, one per data row of the scored file")->required();
    cmd->add_option("--interpretation", spec->interpretation, "interpretation labels a-b:d1,d2,... (adds HitRate@P%)");
    cmd->callback([spec] { write_output("", evaluate(*spec).dump(2) + "\n"); });
}

}  // namespace lara::cli
