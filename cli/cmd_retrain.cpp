#include "common.h"

#include <cmath>
#include <cstdio>
#include <iostream>

namespace lara::cli {
namespace {

//! An option that the chosen method or ablation would ignore is refused: a run that silently did
//! something else than asked (say --samples with --method finetune) would be measured as if it had.
//! An infinite ridge keeps its map the identity: that stage is not fitted, as with --no-fit-z/x.
void refuse_options_that_do_not_apply(const CLI::App& cmd, const RetrainConfig& config) {
    const bool lara = config.method == "lara";
    const bool fits_z = config.fits_z(), fits_x = config.fits_x(), ruminates = config.ruminates();
    const char* ruminate_block = "the ruminate block (--method lara with M_z fitted: without --no-ruminate, --no-fit-z or --ridge-z inf)";
    const struct {
        const char* option;
        bool applies;
        const char* when;
    } rules[] = {
        {"--restored", ruminates, ruminate_block},
        {"--samples", ruminates, ruminate_block},
        {"--proposal", ruminates, ruminate_block},
        {"--ruminated-windows", ruminates, ruminate_block},
        {"--newton-steps", ruminates && config.proposal == "laplace", "the ruminate block's --proposal laplace"},
        {"--no-ruminate", fits_z, "--method lara with M_z fitted (without --no-fit-z or --ridge-z inf)"},
        {"--ridge-z", lara && config.fit_z, "--method lara with M_z fitted"},
        {"--ridge-x", lara && config.fit_x, "--method lara with M_x fitted"},
        {"--x-map", fits_x, "--method lara with M_x fitted (without --no-fit-x or --ridge-x inf)"},
        {"--ridge-bias", fits_z || fits_x, "--method lara with a map fitted"},
        {"--solver", fits_z || fits_x, "--method lara with a map fitted"},
        {"--no-fit-z", lara, "--method lara"},
        {"--no-fit-x", lara, "--method lara"},
        {"--loss-curve", (fits_z || fits_x) && config.solver == "iterative",
         "--method lara --solver iterative with a map fitted (the exact solver has no iterations)"},
        {"--baseline-epochs", config.method == "finetune" || config.method == "scratch", "--method finetune or scratch"},
        {"--warmup-rows", config.recalibrate == "warmup", "--recalibrate warmup"},
        // Only the ruminate block and the baselines' training draw random numbers.
        {"--seed", ruminates || config.method == "finetune" || config.method == "scratch",
         "what draws random numbers: the ruminate block, finetune and scratch"},
    };
    for (const auto& rule : rules)
        if (!rule.applies && cmd.count(rule.option) > 0)
            throw Error(ErrorKind::usage, std::string(rule.option) + " applies to " + rule.when + " only");
}

//! Every digit: the curve is compared with the exact solver's optimum, 1e-9 away.
std::string full_precision(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
}

}  // namespace

void add_retrain(CLI::App& app) {
    struct Options {
        std::string model, out, curve;
        DataOptions data;
        RetrainConfig config;
        std::string ridge_z = "1", ridge_x = "1";
        int threads = 0;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("retrain", "adapt a model to a new normal pattern from a few new rows; prints a JSON report");
    cmd->add_option("--model", o->model, "model to adapt")->required();
    o->data.add_to(*cmd, "rows of the new normal pattern (CSV)");
    cmd->add_option("--out", o->out, "adapted model file to write")->required();
    cmd->add_option("--method", o->config.method, "retraining method")
        ->check(CLI::IsMember({"lara", "finetune", "scratch", "renorm"}))->capture_default_str();
    cmd->add_option("--restored", o->config.n_restored, "windows restored from the old model per new window")->capture_default_str();
    cmd->add_option("--samples", o->config.n_samples, "importance-sampling proposals per new window")->capture_default_str();
    cmd->add_option("--newton-steps", o->config.newton_steps, "laplace proposal: the most Newton steps towards the target's mode (fewer once converged)")
        ->capture_default_str();
    cmd->add_option("--ruminated-windows", o->config.ruminated_windows, "at most this many new windows, evenly spaced, are ruminated")
        ->capture_default_str();
    cmd->add_option("--proposal", o->config.proposal, "importance-sampling proposal")
        ->check(CLI::IsMember({"posterior", "prior", "laplace"}))->capture_default_str();
    cmd->add_option("--ridge-z", o->ridge_z, "ridge of M_z towards the identity (> 0, or inf)")->capture_default_str();
    cmd->add_option("--ridge-x", o->ridge_x, "ridge of M_x towards the identity (> 0, or inf)")->capture_default_str();
    cmd->add_option("--ridge-bias", o->config.ridge_bias, "the biases' share of each ridge (1: the method document's form)")->capture_default_str();
    cmd->add_option("--x-map", o->config.x_map, "form of M_x")->check(CLI::IsMember({"full", "diagonal", "window"}))->capture_default_str();
    cmd->add_option("--solver", o->config.solver, "ridge solver")->check(CLI::IsMember({"exact", "iterative"}))->capture_default_str();
    cmd->add_option("--loss-curve", o->curve, "iterative solver: write its loss curve as CSV stage,iteration,objective");
    cmd->add_flag("!--no-ruminate", o->config.ruminate, "ablation: target latents are the encoder means");
    cmd->add_flag("!--no-fit-z", o->config.fit_z, "ablation: keep M_z the identity (M_x only)");
    cmd->add_flag("!--no-fit-x", o->config.fit_x, "ablation: keep M_x the identity (M_z only)");
    cmd->add_option("--baseline-epochs", o->config.baseline_epochs, "Adam epochs of finetune and scratch")->capture_default_str();
    cmd->add_option("--recalibrate", o->config.recalibrate, "threshold after retraining")
        ->check(CLI::IsMember({"shift", "scale", "warmup", "keep"}))->capture_default_str();
    cmd->add_option("--warmup-rows", o->config.warmup_rows, "warmup: rows at the start of each scored series that set the threshold")->capture_default_str();
    add_seed_option(*cmd, o->config.seed);
    add_threads_option(*cmd, o->threads);
    cmd->callback([o, cmd] {
        set_threads(o->threads);
        auto parse_ridge = [](const std::string& text, const char* flag) {
            try {
                std::size_t used = 0;
                const double value = std::stod(text, &used);
                if (used == text.size()) return value;
            } catch (const std::exception&) {
            }
            throw Error(ErrorKind::usage, std::string(flag) + ": not a number in the range of a double, nor inf: \"" + text + "\"");
        };
        o->config.ridge_z = parse_ridge(o->ridge_z, "--ridge-z");
        o->config.ridge_x = parse_ridge(o->ridge_x, "--ridge-x");
        refuse_options_that_do_not_apply(*cmd, o->config);
        // Usage errors before any file is touched, so that they are reported as such.
        o->data.refuse_stdin();
        o->config.validate();
        check_output_path(o->out, {o->data.path});  // --out may be --model: retraining in place
        check_output_path(o->curve, {o->data.path, o->model, o->out});
        const auto old = Detector::load(o->model);
        // The w − 1 rows before --from, where the file has them, give the new rows their past
        // when the threshold is recalibrated from their scores, as `score --from` reads them.
        const bool rescores = o->config.recalibrate == "shift" || o->config.recalibrate == "scale";
        o->data.read.context_rows = rescores ? old.model_config().window - 1 : 0;
        const auto rows = o->data.load();
        o->data.refuse_empty(rows.source, rows.first_row + rows.n_rows, "to retrain on");
        const auto [adapted, report] = old.retrain(rows, o->config, o->data.read.from - rows.first_row);
        // The loss curve first: if it cannot be written, --out (possibly the old model) is untouched.
        if (!o->curve.empty()) {
            std::string csv = "stage,iteration,objective\n";
            auto add = [&csv](const char* stage, const std::vector<double>& curve) {
                for (std::size_t i = 0; i < curve.size(); ++i)
                    csv += std::string(stage) + "," + std::to_string(i + 1) + "," + full_precision(curve[i]) + "\n";
            };
            add("z", report.loss_curve_z);
            add("x", report.loss_curve_x);
            write_output(o->curve, csv);
        }
        if (!report.converged)
            std::cerr << "warning: the iterative solver stopped at its iteration limit before the tolerance; the maps are not the "
                         "optimum (--solver exact solves it directly)\n";
        // The report before the model: if it cannot be written, --out is untouched, so retrying
        // an in-place retraining does not adapt the model twice.
        if (!(std::cout << report.to_json().dump() << "\n" << std::flush))
            throw Error(ErrorKind::output, "cannot write the report to standard output; " + o->out + " was not written");
        adapted.save(o->out);
    });
}

}  // namespace lara::cli
