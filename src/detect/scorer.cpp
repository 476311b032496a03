#include "detect/scorer.h"

#include <algorithm>
#include <cmath>

namespace lara::detect {

StepScores score_steps(const model::Reconstructor& model, const torch::Tensor& series, std::int64_t first, std::int64_t batch) {
    torch::NoGradGuard no_grad;
    const auto w = model.config().window;
    const auto T = series.size(0), d = series.size(1);
    const auto windows = model::sliding_windows(series, w);  // [T − w + 1, w, d]
    const auto n_windows = windows.size(0);
    auto nll = torch::empty({T - first, d});

    if (first < w - 1) {  // rows before the first window's end: its own steps
        const auto p = model.decode(model.encode(windows.narrow(0, 0, 1)).mean);
        const auto n = w - 1 - first;
        nll.narrow(0, 0, n).copy_(-model::gaussian_log_density(series.narrow(0, first, n), {p.mean[0].narrow(0, first, n), p.var[0].narrow(0, first, n)}));
    }
    for (std::int64_t i = std::max<std::int64_t>(first - (w - 1), 0); i < n_windows; i += batch) {
        const auto count = std::min(batch, n_windows - i);
        const auto x = windows.narrow(0, i, count).contiguous();
        const auto p = model.decode_last(model.encode(x).mean);
        nll.narrow(0, w - 1 + i - first, count).copy_(-model::gaussian_log_density(series.narrow(0, w - 1 + i, count), p));
    }
    StepScores out;
    out.n_rows = T - first;
    out.n_metrics = d;
    out.contributions.assign(nll.data_ptr<float>(), nll.data_ptr<float>() + nll.numel());
    const auto totals = nll.to(torch::kFloat64).sum(1).contiguous();
    out.scores.assign(totals.data_ptr<double>(), totals.data_ptr<double>() + out.n_rows);
    return out;
}

}  // namespace lara::detect
