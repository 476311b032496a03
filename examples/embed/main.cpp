// A program that embeds lara through its public API only (include/lara): train on the old
// pattern, score, adapt to the new pattern from its first rows, save and load the result.
//
//   embed_example DATA.csv CHANGE_ROW [EPOCHS]
//
// Rows [0, CHANGE_ROW) are the old pattern; the 43 rows from CHANGE_ROW are the new one.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <lara/lara.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s DATA.csv CHANGE_ROW [EPOCHS]\n", argv[0]);
        return 1;
    }
    try {
        const lara::Series all = lara::read_series(argv[1]);
        const std::int64_t change = std::atoll(argv[2]);
        lara::TrainConfig train;
        if (argc > 3) train.epochs = std::atoll(argv[3]);

        const auto detector = lara::Detector::train(all.slice(0, change), lara::ModelConfig{}, train, {});
        const auto [adapted, report] = detector.retrain(all.slice(change, change + 43), lara::RetrainConfig{});
        const auto path = std::string(argv[1]) + ".lara";
        adapted.save(path);
        const auto loaded = lara::Detector::load(path);

        const auto after = all.slice(change, all.n_rows);
        const auto before_scores = detector.score(after), after_scores = loaded.score(after);
        double before = 0, now = 0;
        for (std::size_t t = 0; t < before_scores.scores.size(); ++t) {
            before += before_scores.scores[t];
            now += after_scores.scores[t];
        }
        const auto n = static_cast<double>(before_scores.scores.size());
        std::printf("retrained in %.1f ms (ESS %.1f); mean score of the rows after the change: %.1f before, %.1f after\n",
                    report.total_ms, report.ess_mean, before / n, now / n);
        return 0;
    } catch (const lara::Error& e) {
        std::fprintf(stderr, "embed_example: %s\n", e.what());
        return static_cast<int>(e.kind());
    }
}
