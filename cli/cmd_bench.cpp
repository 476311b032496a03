#include "common.h"

#include <iostream>

#include "lara/bench.h"

namespace lara::cli {

void add_bench(CLI::App& app) {
    auto o = std::make_shared<BenchOptions>();
    auto quiet = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("bench", "time training, scoring and retraining in one process; prints JSON with ratios");
    cmd->add_option("--train", o->train_file, "training file (old rows, then the new rows); default: the synthetic service");
    cmd->add_option("--test", o->test_file, "file to score; default: the training file");
    cmd->add_option("--change-at", o->change_at, "first row of the new pattern; default: the last --new-rows rows");
    cmd->add_option("--new-rows", o->new_rows, "rows given to retraining")->capture_default_str();
    cmd->add_option("--epochs", o->epochs, "epochs timed for the gru (the mlp, which is retrained, trains as lara train does)")->capture_default_str();
    cmd->add_option("--repeats", o->repeats, "LARA retrainings timed")->capture_default_str();
    add_threads_option(*cmd, o->threads);
    add_activation_option(*cmd, o->activation);
    cmd->add_flag("--quiet", *quiet, "no progress on stderr");
    cmd->callback([o, quiet] {
        const auto result = run_bench(*o, [quiet](const std::string& line) {
            if (!*quiet) std::cerr << line << "\n";
        });
        std::cout << result.dump(2) << "\n";
    });
}

}  // namespace lara::cli
