#include "common.h"

#include "lara/experiment.h"

namespace lara::cli {

void add_compare(CLI::App& app) {
    struct Options {
        std::string a, b;
        std::vector<std::string> methods, entities;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("compare", "two experiment runs, paired on entity, seed and K; prints markdown");
    cmd->add_option("A", o->a, "results.csv of the run to judge")->required();  // a missing file is a data error (exit 2), as elsewhere
    cmd->add_option("B", o->b, "results.csv of the run to judge it against")->required();
    cmd->add_option("--methods", o->methods, "comma-separated methods (default: every method both runs have but random)")
        ->delimiter(',');
    cmd->add_option("--entities", o->entities, "comma-separated entities (default: all)")->delimiter(',');
    cmd->callback([o] { write_output("", compare_experiments(o->a, o->b, o->methods, o->entities)); });
}

}  // namespace lara::cli
