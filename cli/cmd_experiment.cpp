#include "common.h"

#include <fstream>
#include <iostream>

#include "lara/experiment.h"

namespace lara::cli {
namespace {

// The command as typed, for the top of summary.md: CLI11 keeps no copy of argv.
std::string command_line() {
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string line, arg;
    while (std::getline(in, arg, '\0')) {
        const bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                 "0123456789_./=,:@%+-") == std::string::npos;
        std::string quoted = "'";
        for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        line += (line.empty() ? "" : " ") + (plain ? arg : quoted + "'");
    }
    return line;
}

}  // namespace

void add_experiment(CLI::App& app) {
    struct Options {
        ExperimentSpec spec;
        bool quiet = false;
    };
    auto o = std::make_shared<Options>();
    auto& s = o->spec;
    auto* cmd = app.add_subcommand("experiment", "train, retrain and score every entity of a data set; writes results.csv and summary.md");
    cmd->add_option("--dataset", s.dataset, "data set folder with train/, test/, test_label/ [, interpretation_label/]")->required();
    cmd->add_option("--entities", s.entities, "comma-separated entities (default: every file in DATASET/train)")->delimiter(',');
    cmd->add_option("--protocol", s.protocol, "shift: retrain on the last train rows; standard: train on train, score test")
        ->check(CLI::IsMember({"shift", "standard"}))->capture_default_str();
    cmd->add_option("--new-rows", s.new_rows, "K, rows given to retraining; several (43,100,400) sweep over K "
                                              "(default: 43 under shift, none under standard)")->delimiter(',');
    cmd->add_option("--methods", s.methods, "comma-separated, of old,lara,finetune,scratch,renorm,full,oracle and the ablations "
                                              "lara-no-ruminate,lara-z-only,lara-x-only,lara-mlp (default: all that apply, no ablation)")
        ->delimiter(',');
    cmd->add_option("--seeds", s.seeds, "run seeds 0 … S−1")->capture_default_str();
    cmd->add_option("--epochs", s.train.epochs, "maximum epochs of every training")->capture_default_str();
    cmd->add_option("--val-fraction", s.train.val_fraction, "latest share of windows held out for early stopping (old, oracle; full uses none)")
        ->capture_default_str();
    cmd->add_option("--eval-from", s.eval_from, "score test rows [R, end) only; oracle trains on test rows [0, R)")->capture_default_str();
    add_activation_option(*cmd, s.model.activation);
    cmd->add_option("--newton-steps", s.retrain.newton_steps, "laplace proposal: the most Newton steps of every LARA retraining")->capture_default_str();
    cmd->add_option("--proposal", s.retrain.proposal, "importance-sampling proposal of every LARA retraining (see lara retrain --help)")
        ->check(CLI::IsMember({"posterior", "prior", "laplace"}))->capture_default_str();
    cmd->add_option("--recalibrate", s.retrain.recalibrate, "threshold of every retrained model (see lara retrain --help)")
        ->check(CLI::IsMember({"shift", "scale", "warmup", "keep"}))->capture_default_str();
    cmd->add_option("--jobs", s.jobs, "entities run in parallel")->capture_default_str();
    cmd->add_option("--plot-entity", s.plot_entity, "the entity drawn in OUT/figures/ENTITY.svg (default: the first)");
    cmd->add_option("--out", s.out, "output folder (a rerun skips the entities finished there)")->capture_default_str();
    cmd->add_flag("--quiet", o->quiet, "no progress on stderr");
    cmd->callback([o] {
        o->spec.command = command_line();
        const auto log = [quiet = o->quiet](const std::string& line) {
            if (!quiet || line.rfind("warning:", 0) == 0) std::cerr << line << "\n";  // --quiet keeps warnings
        };
        const auto report = run_experiment(o->spec, log);
        std::ifstream summary(report.summary_md);
        std::cout << summary.rdbuf();
    });
}

}  // namespace lara::cli
