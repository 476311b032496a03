#include "common.h"

#include <sstream>

namespace lara::cli {

void add_score(CLI::App& app) {
    struct Options {
        std::string model, out;
        DataOptions data;
        int top = 3;
        bool top_names = false;
        int threads = 0;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("score", "score every row of a file; CSV index,score,threshold,anomaly,top_metrics");
    cmd->add_option("--model", o->model, "model file")->required();
    o->data.add_to(*cmd, "data to score (CSV)");
    cmd->add_option("--out", o->out, "output CSV (default: stdout)");
    cmd->add_option("--top", o->top, "metrics listed in top_metrics, largest contribution first")->capture_default_str()->check(CLI::Range(0, 1 << 20));
    cmd->add_flag("--top-names", o->top_names,
                  "top_metrics as the metrics' names from the training file's header, not 0-based indices (lara evaluate reads indices)");
    add_threads_option(*cmd, o->threads);
    cmd->callback([o] {
        check_output_path(o->out, {o->data.path, o->model});
        set_threads(o->threads);
        const auto detector = Detector::load(o->model);
        const auto& names = detector.metric_names();
        if (o->top_names) {
            if (names.empty()) throw Error(ErrorKind::usage, o->model + ": --top-names needs metric names, and this model was trained on a file without a header");
            for (const auto& name : names)
                if (name.find(';') != std::string::npos)
                    throw Error(ErrorKind::usage, o->model + ": --top-names cannot list the metric \"" + name + "\", whose name holds the separator ';'");
        }
        const auto result = detector.score(o->data.load());
        std::ostringstream out;
        out.precision(9);
        out << "index,score,threshold,anomaly,top_metrics\n";
        for (std::int64_t t = 0; t < result.n_rows; ++t) {
            out << result.first_row + t << ',' << result.scores[static_cast<std::size_t>(t)] << ',' << result.threshold << ','
                << result.anomalies[static_cast<std::size_t>(t)] << ',';
            const auto top = result.top_metrics(t, o->top);
            for (std::size_t i = 0; i < top.size(); ++i) {
                out << (i ? ";" : "");
                if (o->top_names) out << names[static_cast<std::size_t>(top[i])];
                else out << top[i];
            }
            out << '\n';
        }
        write_output(o->out, out.str());
    });
}

}  // namespace lara::cli
