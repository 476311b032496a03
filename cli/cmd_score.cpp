#include "common.h"

#include <iostream>
#include <sstream>
#include <utility>

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
    o->data.add_to(*cmd, "data to score (CSV); - reads standard input and writes each row's score as soon as its window is complete");
    cmd->add_option("--out", o->out, "output CSV (default: stdout)");
    cmd->add_option("--top", o->top, "metrics listed in top_metrics, largest contribution first")->capture_default_str()->check(CLI::Range(0, 1 << 20));
    cmd->add_flag("--top-names", o->top_names,
                  "top_metrics as the metrics' names from the training file's header, not 0-based indices (lara evaluate reads indices)");
    add_threads_option(*cmd, o->threads);
    cmd->callback([o] {
        const bool stream = o->data.path == "-";
        if (stream && !o->out.empty())
            throw Error(ErrorKind::usage, "--data - streams its scores to standard output as rows arrive: leave out --out and redirect it");
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
        // One output line per row: index,score,threshold,anomaly,top_metrics.
        const auto line = [&](std::ostream& out, std::int64_t index, double score, double threshold, int anomaly, const std::vector<int>& top) {
            out << index << ',' << score << ',' << threshold << ',' << anomaly << ',';
            for (std::size_t i = 0; i < top.size(); ++i) {
                out << (i ? ";" : "");
                if (o->top_names) out << names[static_cast<std::size_t>(top[i])];
                else out << top[i];
            }
            out << '\n';
        };
        const char* header = "index,score,threshold,anomaly,top_metrics\n";
        // The w − 1 rows before --from, where the input has them, give the first scored windows their
        // past, so that a range scores as it does inside the whole file.
        const auto from = o->data.read.from;
        o->data.read.context_rows = detector.model_config().window - 1;
        if (stream) {
            RowReader reader(std::cin, "stdin", o->data.options());
            if (reader.n_metrics() != detector.model_config().n_metrics)  // said at once, not after the rows before --from
                throw Error(ErrorKind::data, "stdin: has " + std::to_string(reader.n_metrics()) + " metrics but the model was trained on " +
                                                 std::to_string(detector.model_config().n_metrics));
            const auto first = o->data.read.first_kept();
            StreamScorer scorer(detector, "stdin", reader.metric_names(), first, from - first);
            std::cout.precision(9);
            bool started = false;  // the header goes out with the first rows: an early error leaves no output
            const auto print = [&](const std::vector<ScoredRow>& rows) {
                if (rows.empty()) return;
                if (!std::exchange(started, true)) std::cout << header;
                for (const auto& r : rows) line(std::cout, r.row, r.score, r.threshold, r.anomaly, r.top_metrics(o->top));
                // A reader that went away (SIGPIPE ignored) or a full disk: stop now, not at the input's end.
                if (!(std::cout << std::flush)) throw Error(ErrorKind::output, "cannot write to standard output");
            };
            std::vector<float> values;
            double timestamp = 0;
            std::int64_t end = first;  // one past the last row read
            for (; reader.next(values, timestamp); ++end) print(scorer.push(values));
            o->data.refuse_empty("stdin", end, "to score");
            print(scorer.finish());
            return;
        }
        const auto series = o->data.load();
        o->data.refuse_empty(series.source, series.first_row + series.n_rows, "to score");
        const auto result = detector.score(series, from - series.first_row);
        std::ostringstream out;
        out.precision(9);
        out << header;
        for (std::int64_t t = 0; t < result.n_rows; ++t)
            line(out, result.first_row + t, result.scores[static_cast<std::size_t>(t)], result.threshold,
                 result.anomalies[static_cast<std::size_t>(t)], result.top_metrics(t, o->top));
        write_output(o->out, out.str());
    });
}

}  // namespace lara::cli
