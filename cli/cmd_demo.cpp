#include "common.h"

#include <iostream>

#include "lara/demo.h"

namespace lara::cli {

void add_demo(CLI::App& app) {
    struct Options {
        DemoOptions demo;
        bool quiet = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("demo", "train, detect and retrain on a built-in synthetic service; needs no files");
    cmd->add_option("--arch", o->demo.arch, "VAE architecture")->check(CLI::IsMember({"mlp", "gru"}))->capture_default_str();
    cmd->add_option("--epochs", o->demo.epochs, "training epochs of the base model")->capture_default_str();
    cmd->add_option("--new-rows", o->demo.new_rows, "rows of the new pattern given to retraining")->capture_default_str();
    add_seed_option(*cmd, o->demo.seed);
    cmd->add_flag("--quiet", o->quiet, "no progress on stderr");
    cmd->callback([o] {
        if (!o->quiet) std::cerr << "training the base model on the synthetic service's old pattern...\n";
        std::cout << run_demo(o->demo, progress_printer(o->quiet)).text();
    });
}

}  // namespace lara::cli
