#include "lara/bench.h"

#include <algorithm>
#include <optional>

#include <torch/torch.h>

#include "api/experiment_plan.h"
#include "core/resources.h"
#include "core/statistics.h"
#include "data/synthetic.h"
#include "lara/lara.h"

namespace lara {
namespace {

double mib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

void BenchOptions::validate() const {
    const auto fail = [](const std::string& field, const std::string& why) { throw Error(ErrorKind::usage, "bench options: " + field + " " + why); };
    if (change_at < -1) fail("change_at", "must be a row (0 or more), or -1 for the last new_rows rows");
    ModelConfig model;
    if (new_rows < model.window) fail("new_rows", "must be at least one window (" + std::to_string(model.window) + " rows)");
    if (epochs < 1) fail("epochs", "must be at least 1");
    if (repeats < 1) fail("repeats", "must be at least 1");
    model.activation = activation;
    model.n_metrics = 1;
    model.validate();
}

nlohmann::json run_bench(const BenchOptions& options, const std::function<void(const std::string&)>& log) {
    options.validate();
    set_threads(options.threads);
    auto say = [&log](const std::string& line) {
        if (log) log(line);
    };
    const Series all = options.train_file.empty() ? data::make_synthetic({}).series.slice(0, 4543) : read_series(options.train_file);
    const Series test = options.test_file.empty() ? all : read_series(options.test_file);
    if (test.n_metrics != all.n_metrics)  // before the trainings it would waste
        throw Error(ErrorKind::data, test.source + " has " + std::to_string(test.n_metrics) + " metrics and " + all.source + " has " +
                                         std::to_string(all.n_metrics) + ": bench scores the test file with a model of the training file");
    const std::int64_t change = options.change_at >= 0 ? options.change_at : all.n_rows - options.new_rows;
    const auto window = ModelConfig{}.window;
    if (change <= window || change + options.new_rows > all.n_rows)
        throw Error(ErrorKind::data, all.source + " has " + std::to_string(all.n_rows) + " rows: bench needs more than " +
                                         std::to_string(window) + " (a window) before the change" +
                                         (options.change_at >= 0 ? " at row " + std::to_string(options.change_at) : std::string()) +
                                         " and " + std::to_string(options.new_rows) + " (--new-rows) from it on");
    const Series old_rows = all.slice(0, change);
    const Series new_rows = all.slice(change, change + options.new_rows);
    // With the w − 1 rows before them, which recalibration scores them with (as `lara retrain --from` reads them).
    const auto past = all.slice_with_past(change, change + options.new_rows, window - 1);
    const Series& with_context = past.first;
    const std::int64_t context = past.second;

    nlohmann::json out = {{"data", {{"train", all.source}, {"test", test.source}, {"old_rows", old_rows.n_rows},
                                    {"new_rows", new_rows.n_rows}, {"metrics", all.n_metrics}}},
                          {"threads", torch::get_num_threads()},
                          {"mlp_activation", options.activation}};
    std::optional<Detector> mlp;
    // mlp last, so that its scoring and the retraining below run in the same memory state.
    for (const std::string arch : {"gru", "mlp"}) {
        ModelConfig model;
        model.arch = arch;
        if (arch == "mlp") model.activation = options.activation;
        // The mlp is retrained below, so it is the model `lara train` makes (up to 30 epochs, early
        // stopping): a shorter-trained one has a flatter target and takes fewer Newton steps. The
        // gru, timed only, trains for options.epochs.
        TrainConfig train;
        if (arch == "gru") train.epochs = train.patience = options.epochs;  // time every epoch
        say("bench: training " + arch + (arch == "gru" ? " for " + std::to_string(options.epochs) + " epochs" : std::string(" as lara train does")));
        const auto detector = Detector::train(old_rows, model, train, {});
        const auto info = detector.info()["training"];
        const double per_epoch = info["seconds"].get<double>() / info["epochs_run"].get<double>();
        detector.score(test.slice(0, std::min<std::int64_t>(test.n_rows, 500)));  // warm-up
        core::reset_peak_rss();
        const core::Timer timer;
        detector.score(test);
        const double seconds = timer.seconds();
        out[arch] = {{"train_seconds_per_epoch", per_epoch},
                     {"train_windows", old_rows.n_rows - model.window + 1},
                     {"score_steps_per_second", static_cast<double>(test.n_rows) / seconds},
                     {"score_peak_rss_mib", mib(core::peak_rss_bytes())}};
        if (arch == "mlp") mlp.emplace(detector);
    }

    // LARA with each proposal of the ruminate block; the default's total is the one the ratios use.
    const auto time_lara = [&](const std::string& proposal) {
        say("bench: LARA retraining with the " + proposal + " proposal, " + std::to_string(options.repeats) + " times");
        RetrainConfig config;
        config.proposal = proposal;
        std::vector<double> ruminate, fit, recalibrate, total;
        RetrainReport last;
        for (std::int64_t i = 0; i < options.repeats + 1; ++i) {
            core::reset_peak_rss();
            auto [adapted, report] = mlp->retrain(with_context, config, context);
            if (i == 0) continue;  // the first run pays one-off allocations
            ruminate.push_back(report.ruminate_ms);
            fit.push_back(report.fit_ms);
            recalibrate.push_back(report.recalibrate_ms);
            total.push_back(report.total_ms);
            last = report;
        }
        return nlohmann::json{{"proposal", proposal},
                              {"median_ms", {{"ruminate", core::median(ruminate)}, {"fit", core::median(fit)},
                                             {"recalibrate", core::median(recalibrate)}, {"total", core::median(total)}}},
                              {"peak_rss_mib", mib(last.peak_rss_bytes)},
                              {"ess_mean", last.ess_mean},
                              {"newton_steps", last.newton_steps}};
    };
    const auto default_proposal = RetrainConfig{}.proposal;
    out["lara"] = time_lara(default_proposal);
    for (const char* proposal : {"posterior", "laplace"})
        if (proposal != default_proposal) out[std::string("lara_") + proposal] = time_lara(proposal);
    const double lara_ms = out["lara"]["median_ms"]["total"].get<double>();
    say("bench: finetune baseline");
    RetrainConfig finetune;
    finetune.method = "finetune";
    std::vector<double> finetune_runs;
    for (int i = 0; i < 4; ++i) finetune_runs.push_back(mlp->retrain(with_context, finetune, context).second.total_ms);
    finetune_runs.erase(finetune_runs.begin());  // timed as LARA is: after a warm-up run, the median
    const double finetune_ms = core::median(finetune_runs);
    say("bench: a full training run on old and new rows (default settings, no early stopping)");
    const core::Timer full_timer;
    ModelConfig full_model;
    full_model.activation = options.activation;
    Detector::train(all.slice(0, change + new_rows.n_rows), full_model, full_training_config({}), {});
    const double full_ms = full_timer.milliseconds();
    const double score_peak = out["mlp"]["score_peak_rss_mib"].get<double>();
    out["finetune_ms"] = finetune_ms;
    out["full_training_ms"] = full_ms;
    out["ratios"] = {{"full_training_over_lara", full_ms / lara_ms},
                     {"finetune_over_lara", finetune_ms / lara_ms},
                     {"lara_peak_rss_over_scoring", out["lara"]["peak_rss_mib"].get<double>() / score_peak}};
    return out;
}

}  // namespace lara
