#include "common.h"

#include <iostream>

namespace lara::cli {

void add_train(CLI::App& app) {
    struct Options {
        DataOptions data;
        std::string out;
        ModelConfig model;
        TrainConfig train;
        ThresholdConfig threshold;
        bool fixed = false;
        bool quiet = false;
        int threads = 0;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("train", "train a detector on normal history and save it");
    o->data.add_to(*cmd, "training data (CSV)");
    cmd->add_option("--out", o->out, "model file to write")->required();
    cmd->add_option("--arch", o->model.arch, "VAE architecture")->check(CLI::IsMember({"mlp", "gru"}))->capture_default_str();
    cmd->add_option("--window", o->model.window, "time steps per window")->capture_default_str();
    cmd->add_option("--latent", o->model.latent, "latent dimension")->capture_default_str();
    cmd->add_option("--hidden", o->model.hidden, "hidden units (mlp) or GRU state size (gru)")->capture_default_str();
    add_activation_option(*cmd, o->model.activation);
    cmd->add_option("--epochs", o->train.epochs, "maximum training epochs")->capture_default_str();
    cmd->add_option("--batch", o->train.batch, "windows per minibatch")->capture_default_str();
    cmd->add_option("--lr", o->train.learning_rate, "Adam learning rate")->capture_default_str();
    cmd->add_option("--val-fraction", o->train.val_fraction, "latest share of windows held out for early stopping")->capture_default_str();
    cmd->add_option("--patience", o->train.patience, "early-stopping patience in epochs")->capture_default_str();
    add_seed_option(*cmd, o->train.seed);
    cmd->add_option("--risk", o->threshold.risk, "SPOT risk level q")->capture_default_str();
    cmd->add_option("--init-quantile", o->threshold.init_quantile, "SPOT initial quantile")->capture_default_str();
    cmd->add_option("--threshold", o->threshold.value, "a fixed threshold instead of SPOT")
        ->each([o](const std::string&) { o->threshold.method = "fixed"; });
    add_threads_option(*cmd, o->threads);
    cmd->add_flag("--quiet", o->quiet, "no progress on stderr");
    cmd->callback([o, cmd] {
        if (o->model.arch == "gru" && cmd->count("--activation") > 0)
            throw Error(ErrorKind::usage, "--activation applies to --arch mlp only (a GRU has its own)");
        if (o->threshold.method == "fixed" && (cmd->count("--risk") > 0 || cmd->count("--init-quantile") > 0))
            throw Error(ErrorKind::usage, "--risk and --init-quantile set SPOT's fit, which a fixed --threshold replaces");
        if (o->train.val_fraction == 0 && cmd->count("--patience") > 0)
            throw Error(ErrorKind::usage, "--patience stops training on the held-out windows, and --val-fraction 0 holds none out");
        // Usage errors before any file is touched, so that they are reported as such.
        o->data.refuse_stdin();
        auto model = o->model;
        model.n_metrics = 1;  // the data's, known once it is read
        model.validate();
        o->train.validate();
        o->threshold.validate();
        check_output_path(o->out, {o->data.path});
        set_threads(o->threads);
        const auto series = o->data.load();
        const auto detector = Detector::train(series, o->model, o->train, o->threshold, progress_printer(o->quiet));
        detector.save(o->out);
        const auto training = detector.info()["training"];
        for (const auto& warning : training["warnings"]) std::cerr << "warning: " << warning.get<std::string>() << "\n";
        if (!o->quiet)
            std::cerr << "saved " << o->out << " (threshold " << detector.threshold() << ", " << training["seconds"].get<double>() << " s)\n";
    });
}

}  // namespace lara::cli
