#include "api/experiment_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>
#include <type_traits>

#include "core/read_file.h"
#include "eval/paired.h"
#include "lara/error.h"
#include "lara/lara.h"

namespace lara {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

//! The numeric columns after entity,method,seed,new_rows,n_rows,n_labelled,n_flagged, in file order.
struct Column {
    const char* name;
    const char* label;  // in summary.md
    double ExperimentRow::*field;
    int decimals;       // in summary.md
    bool tabled = true; // false: results.csv only (summary.md says it in words)
};
const std::vector<Column> kColumns = {
    {"precision", "precision", &ExperimentRow::precision, 3},
    {"recall", "recall", &ExperimentRow::recall, 3},
    {"f1", "f1", &ExperimentRow::f1, 3},
    {"best_f1", "best_f1 (uses test labels)", &ExperimentRow::best_f1, 3},
    {"pa_f1", "pa_f1 (point-adjusted, inflated)", &ExperimentRow::pa_f1, 3},
    {"auc_pr", "auc_pr", &ExperimentRow::auc_pr, 3},
    {"hitrate_100", "HitRate@100%", &ExperimentRow::hitrate_100, 3},
    {"hitrate_150", "HitRate@150%", &ExperimentRow::hitrate_150, 3},
    {"wall_ms", "wall ms", &ExperimentRow::wall_ms, 0},
    {"peak_rss_mib", "peak RSS MiB", &ExperimentRow::peak_rss_mib, 0},
    {"first_epoch_kept", "first epoch kept", &ExperimentRow::first_epoch_kept, 0, false},
};
constexpr std::size_t kIdColumns = 7;

bool is_hit_rate(const Column& c) { return c.field == &ExperimentRow::hitrate_100 || c.field == &ExperimentRow::hitrate_150; }

std::vector<const Column*> columns(bool hit_rates) {
    std::vector<const Column*> out;
    for (const auto& c : kColumns)
        if (hit_rates || !is_hit_rate(c)) out.push_back(&c);
    return out;
}


std::vector<std::string> split(const std::string& line, char separator) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, separator)) fields.push_back(field);
    if (!line.empty() && line.back() == separator) fields.emplace_back();
    return fields;
}

//! "mean ± sample sd"; one value has no spread to show ("± —"), and where fewer values than the
//! method's rows are defined, their count follows in parentheses.
std::string mean_sd(const std::vector<double>& values, std::size_t rows, int decimals) {
    if (values.empty()) return "—";
    const double n = static_cast<double>(values.size());
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    double squares = 0;
    for (double v : values) squares += (v - mean) * (v - mean);
    char text[96];
    if (values.size() > 1)
        std::snprintf(text, sizeof text, "%.*f ± %.*f", decimals, mean, decimals, std::sqrt(squares / (n - 1)));
    else
        std::snprintf(text, sizeof text, "%.*f ± —", decimals, mean);
    std::string out = text;
    if (values.size() < rows) out += " (" + std::to_string(values.size()) + ")";
    return out;
}

std::vector<std::string> methods_in(const std::vector<ExperimentRow>& rows) {
    std::vector<std::string> methods;  // in order of first appearance
    for (const auto& row : rows)
        if (std::find(methods.begin(), methods.end(), row.method) == methods.end()) methods.push_back(row.method);
    return methods;
}

std::string summary_table(const std::vector<ExperimentRow>& rows, bool hit_rates) {
    const auto methods = methods_in(rows);
    auto cols = columns(hit_rates);
    cols.erase(std::remove_if(cols.begin(), cols.end(), [](const Column* c) { return !c->tabled; }), cols.end());
    std::string table = "| method | rows |";
    std::string rule = "|---|---|";
    for (const auto* c : cols) {
        table += std::string(" ") + c->label + " |";
        rule += "---|";
    }
    table += "\n" + rule + "\n";
    for (const auto& method : methods) {
        std::size_t n = 0;
        table += "| " + method + " |";
        for (const auto& row : rows) n += row.method == method;
        table += " " + std::to_string(n) + " |";
        for (const auto* c : cols) {
            std::vector<double> values;
            for (const auto& row : rows)
                if (row.method == method && !std::isnan(row.*(c->field))) values.push_back(row.*(c->field));
            table += " " + mean_sd(values, n, c->decimals) + " |";
        }
        table += "\n";
    }
    return table;
}

//! Point-wise F1 of each method (rows) for each K (columns).
std::string f1_by_k_table(const std::vector<ExperimentRow>& rows, const std::vector<std::int64_t>& ks) {
    std::string table = "| method |", rule = "|---|";
    for (const auto k : ks) {
        table += " K = " + std::to_string(k) + " |";
        rule += "---|";
    }
    table += "\n" + rule + "\n";
    for (const auto& method : methods_in(rows)) {
        table += "| " + method + " |";
        for (const auto k : ks) {
            std::vector<double> values;
            std::size_t n = 0;
            for (const auto& row : rows)
                if (row.method == method && row.new_rows == k) {
                    ++n;
                    if (!std::isnan(row.f1)) values.push_back(row.f1);
                }
            table += " " + mean_sd(values, n, 3) + " |";
        }
        table += "\n";
    }
    return table;
}

std::string count(std::size_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); }

//! A paragraph naming the methods whose trainings early stopping cut after the first epoch, or "".
std::string first_epoch_warning(const std::vector<ExperimentRow>& rows) {
    std::vector<std::string> parts;
    for (const auto& method : methods_in(rows)) {
        std::size_t kept = 0, made = 0;
        for (const auto& row : rows)
            if (row.method == method) {
                ++made;
                kept += row.first_epoch_kept > 0;
            }
        if (kept > 0) parts.push_back(std::to_string(kept) + " of " + std::to_string(made) + " `" + method + "` models");
    }
    if (parts.empty()) return "";
    return "**Warning: early stopping kept the first epoch** of " + joined(parts) +
           ": the loss of their latest windows, held out for validation, rose from the first epoch on, as it does when the "
           "training rows end in another pattern, so these models are barely trained. `--val-fraction 0` trains every "
           "epoch (docs/method.md).\n\n";
}

//! A paragraph naming the entities (and, in a sweep, the K) with no labelled row among the scored
//! ones, or "".
std::string unlabelled_note(const std::vector<ExperimentRow>& rows, bool sweep) {
    std::vector<std::string> names;
    for (const auto& row : rows) {
        const auto name = row.entity + (sweep ? " (K = " + std::to_string(row.new_rows) + ")" : "");
        if (row.n_labelled == 0 && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    if (names.empty()) return "";
    return "No scored row of " + joined(names) + " is labelled: their recall, F1, best F1, point-adjusted "
           "F1, AUC-PR and hit rates are undefined, left empty in results.csv and out of the means below; their "
           "precision counts where they flagged a row (every flag is then a false alarm).\n\n";
}

}  // namespace

std::string csv_header(bool hit_rates) {
    std::string line = "entity,method,seed,new_rows,n_rows,n_labelled,n_flagged";
    for (const auto* c : columns(hit_rates)) line += std::string(",") + c->name;
    return line + "\n";
}

std::string csv_row(const ExperimentRow& row, bool hit_rates) {
    std::string line = row.entity + "," + row.method + "," + std::to_string(row.seed) + "," + std::to_string(row.new_rows) + "," +
                       std::to_string(row.n_rows) + "," +
                       std::to_string(row.n_labelled) + "," + std::to_string(row.n_flagged);
    for (const auto* c : columns(hit_rates)) {
        const double value = row.*(c->field);
        char text[32] = "";  // an undefined metric stays empty
        if (!std::isnan(value)) std::snprintf(text, sizeof text, "%.9g", value);
        line += std::string(",") + text;
    }
    return line + "\n";
}

std::vector<ExperimentRow> parse_rows(const std::string& text, const std::string& name, bool hit_rates) {
    std::istringstream in(text);
    std::string line;
    const auto fail = [&name](int number, const std::string& what) {
        return Error(ErrorKind::data, name + ":" + std::to_string(number) + ": " + what);
    };
    const auto header = csv_header(hit_rates);
    if (!std::getline(in, line) || line + "\n" != header)
        throw fail(1, "not an entity file of this experiment (expected the header " + header.substr(0, header.size() - 1) + ")");
    const auto cols = columns(hit_rates);
    const auto names = split(header.substr(0, header.size() - 1), ',');
    std::vector<ExperimentRow> rows;
    std::set<std::tuple<std::string, std::string, std::uint64_t, std::int64_t>> seen;
    for (int number = 2; std::getline(in, line); ++number) {
        const auto fields = split(line, ',');
        if (fields.size() != kIdColumns + cols.size()) throw fail(number, "expected " + std::to_string(kIdColumns + cols.size()) + " fields");
        // Each field whole, as this program writes it: no sign on a count, nothing after a number.
        std::size_t at = 0;  // the field being read
        const auto bad = [&](const char* what) {
            std::size_t offset = 0;  // of field `at` in the line
            for (std::size_t i = 0; i < at; ++i) offset += fields[i].size() + 1;
            return Error(ErrorKind::data, name + ":" + std::to_string(number) + ":" + std::to_string(core::column(line, offset)) + ": " +
                                              names[at] + " " + core::quoted(fields[at]) + " is not " + what);
        };
        const auto count = [&](auto& out) {
            bool negative = false;
            const bool whole = core::parse_whole(fields[at], out);
            if constexpr (std::is_signed_v<std::remove_reference_t<decltype(out)>>) negative = out < 0;
            if (!whole || negative) throw bad("a count");
            ++at;
        };
        ExperimentRow row;
        row.entity = fields[at++];
        row.method = fields[at++];
        count(row.seed);
        count(row.new_rows);
        count(row.n_rows);
        count(row.n_labelled);
        count(row.n_flagged);
        for (const auto* c : cols) {
            const auto& f = fields[at];
            double value = kNaN;  // empty: undefined
            if (!f.empty() && !(core::parse_whole(f, value) && std::isfinite(value))) throw bad("a finite number");
            row.*(c->field) = value;
            ++at;
        }
        if (!seen.insert({row.entity, row.method, row.seed, row.new_rows}).second)
            throw fail(number, "a second row for entity " + row.entity + ", method " + row.method + ", seed " + std::to_string(row.seed) +
                                   ", K " + std::to_string(row.new_rows));
        if (!hit_rates) row.hitrate_100 = row.hitrate_150 = kNaN;
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<ExperimentRow> read_entity_file(const std::filesystem::path& path, bool hit_rates) {
    return parse_rows(core::read_whole_file(path.string(), ErrorKind::data), path.string(), hit_rates);
}

std::string paired_lines(const std::vector<ExperimentRow>& rows, const std::vector<ExperimentRow>& baseline) {
    using Key = std::tuple<std::string, std::uint64_t, std::int64_t>;
    std::map<Key, const ExperimentRow*> base;
    for (const auto& row : baseline) base[{row.entity, row.seed, row.new_rows}] = &row;
    const auto interval = [](const eval::PairedSummary& p) {
        char text[96];
        if (p.has_interval())
            std::snprintf(text, sizeof text, "%+.3f [%+.3f, %+.3f] | %zu / %zu", p.mean, p.low, p.high, p.better, p.worse);
        else
            std::snprintf(text, sizeof text, "%+.3f (no interval below %zu entities) | %zu / %zu", p.mean, eval::kMinEntitiesForInterval,
                          p.better, p.worse);
        return std::string(text);
    };
    std::string table;
    for (const auto& method : methods_in(rows)) {
        std::vector<eval::Difference> f1, best_f1;
        for (const auto& row : rows) {
            const auto match = base.find({row.entity, row.seed, row.new_rows});
            if (row.method != method || match == base.end()) continue;
            if (!std::isnan(row.f1) && !std::isnan(match->second->f1)) f1.push_back({row.entity, row.f1 - match->second->f1});
            if (!std::isnan(row.best_f1) && !std::isnan(match->second->best_f1))
                best_f1.push_back({row.entity, row.best_f1 - match->second->best_f1});
        }
        if (f1.empty() || best_f1.empty()) continue;
        const auto on_f1 = eval::paired_summary(f1);
        table += "| " + method + " | " + std::to_string(on_f1.entities) + " | " + interval(on_f1) + " | " +
                 interval(eval::paired_summary(best_f1)) + " |\n";
    }
    return table;
}

std::string summary(const ExperimentPlan& plan, const std::vector<ExperimentRow>& rows, const std::string& started_by) {
    const auto& s = plan.spec;
    std::set<std::string> entities;
    for (const auto& row : rows) entities.insert(row.entity);
    std::ostringstream md;
    md << "# lara experiment\n\n";
    if (!s.command.empty()) md << "```sh\n" << s.command << "\n```\n\n";
    // Runs with the same settings share a folder, so the tables can cover entities this command did not name.
    std::vector<std::string> kept;
    for (const auto& name : entities)
        if (std::none_of(plan.entities.begin(), plan.entities.end(), [&](const auto& e) { return e.name == name; })) kept.push_back(name);
    if (!kept.empty())
        md << "The tables also cover " << count(kept.size(), "entity", "entities") << " that an earlier run with the same settings left in this folder ("
           << joined(kept) << "); one command that reproduces every row names them all in `--entities`.\n\n";
    md << "Made by lara " << version();
    if (!started_by.empty()) md << "; the folder was started by " << started_by << ", whose entity files were kept";
    md << ".\n\n";
    md << "Data set `" << s.dataset << "`, " << count(entities.size(), "entity", "entities") << ", "
       << (s.seeds == 1 ? std::string("seed 0") : "seeds 0…" + std::to_string(s.seeds - 1)) << ", protocol " << s.protocol;
    const auto k = is_sweep(s) ? std::string("K") : std::to_string(s.new_rows.front());
    if (s.protocol == "shift")
        md << ": the old model learns train rows [0, T−" << k << "), retraining gets the " << k << " rows [T−" << k
           << ", T), `full` learns all T rows";
    else if (s.new_rows.front() > 0)
        md << ": the old model learns the train file, retraining gets the first " << k
           << " test rows, `full` learns the train file followed by them";
    else
        md << ": the model learns the train file";
    if (is_sweep(s)) {
        std::vector<std::string> ks;
        for (const auto value : s.new_rows) ks.push_back(std::to_string(value));
        md << ", for K in {" << joined(ks) << "}";
    }
    md << "; scored: test rows [";
    if (is_sweep(s) && first_scored_row(s, s.new_rows.front()) != first_scored_row(s, s.new_rows.back()))
        md << "max(" << s.eval_from << ", K)";
    else
        md << first_scored_row(s, s.new_rows.front());
    md << ", end)";
    if (std::find(s.methods.begin(), s.methods.end(), "oracle") != s.methods.end())
        md << ", `oracle` learns the unlabelled test rows [0, " << s.eval_from << ")";
    md << ". Model " << s.model.arch;
    if (s.model.arch == "mlp") md << " (" << s.model.activation << " layers)";  // the default changed once; say which
    md << ", window " << s.model.window << ", hidden " << s.model.hidden << ", latent " << s.model.latent << ", at most "
       << count(static_cast<std::size_t>(s.train.epochs), "epoch", "epochs") << "; LARA's proposal " << s.retrain.proposal
       << ", threshold recalibrated by " << s.retrain.recalibrate << ".\n\n"
       << "Each cell is the mean ± sample standard deviation over entities and seeds (`rows` of them), of the rows where "
          "the value is defined (precision needs a flagged row, the rest a labelled one): where fewer, their count follows "
          "in parentheses.\n\n";
    md << first_epoch_warning(rows) << unlabelled_note(rows, is_sweep(s));

    // The JumpStarter services that change pattern are the case LARA is for: they come apart, and
    // all entities get a table of their own only when both kinds are there.
    std::vector<std::pair<std::string, std::vector<ExperimentRow>>> groups;
    std::vector<ExperimentRow> changed, others;
    if (plan.jumpstarter)
        for (const auto& row : rows) (changes_pattern(row.entity) ? changed : others).push_back(row);
    if (!changed.empty()) groups.emplace_back("Services that change pattern (0, 1, 3, 5, 7, 8, 9, 10, 13, 14, 20, 23)", changed);
    if (!others.empty()) groups.emplace_back("Other services", others);
    if (groups.size() != 1) groups.emplace_back("All entities", rows);
    const auto entity_count = [](const std::vector<ExperimentRow>& part) {
        std::set<std::string> names;
        for (const auto& row : part) names.insert(row.entity);
        return " (" + count(names.size(), "entity", "entities") + ")";
    };
    if (is_sweep(s)) {
        md << "## Point-wise F1 against K\n\nAt each model's label-free threshold; `figures/f1_vs_k.svg` draws it.\n\n";
        for (const auto& [title, part] : groups)
            if (!part.empty()) md << "### " << title << entity_count(part) << "\n\n" << f1_by_k_table(part, s.new_rows) << "\n";
    }
    for (const auto value : s.new_rows)
        for (const auto& [title, part] : groups) {
            std::vector<ExperimentRow> with_k;
            std::copy_if(part.begin(), part.end(), std::back_inserter(with_k), [value](const auto& row) { return row.new_rows == value; });
            if (with_k.empty()) continue;
            md << "## " << title << entity_count(with_k) << (is_sweep(s) ? ", K = " + std::to_string(value) : "") << "\n\n"
               << summary_table(with_k, plan.hit_rates) << "\n";
            std::vector<ExperimentRow> old, others;
            for (const auto& row : with_k) (row.method == "old" ? old : others).push_back(row);
            if (const auto paired = paired_lines(others, old); !paired.empty())
                md << "Against `old`, paired on entity and seed: the mean difference (seeds averaged per entity, then "
                      "entities), its 95% bootstrap interval over entities, and how many entities came out better / worse.\n\n"
                   << kPairedHeader << paired << "\n";
        }

    md << "## What the columns are\n\n"
       << "- `precision`, `recall`, `f1`: point-wise, at the model's own label-free threshold. **The headline.**\n"
       << "- `best_f1`: the best point-wise F1 over every threshold; **uses test labels** to pick it, an upper bound.\n"
       << "- `pa_f1`: point-adjusted F1 of the flagged rows: **inflated** (one hit counts a whole segment).\n"
       << "- `auc_pr`: average precision of the scores.\n"
       << "- `recall` and every column after it but the last two: averaged over the rows where a scored row is labelled.\n";
    if (plan.hit_rates) md << "- HitRate@P%: how well each row's ranking of metrics finds the labelled causes.\n";
    md << "- `random`: uniform random scores, flagging as many rows as `old` does; the floor to beat.\n"
       << "- Δ against `old`: how sure a difference is; an interval that excludes 0 is a difference these entities "
          "support, one that straddles 0 is not (docs/evaluation.md).\n"
       << "- `wall ms`, `peak RSS MiB`: the training or retraining that made the model (peak RSS is of the whole "
          "process, so with --jobs > 1 it includes the other entities' work).\n\n"
       << "Pictures: ";
    // The entity's picture is drawn only when the entity is computed, not when a rerun skips it.
    if (std::filesystem::exists(plan.out / "figures" / (plan.plot_entity + ".svg")))
        md << "`figures/" << plan.plot_entity << ".svg` (its series, every model's scores and threshold, the labels), ";
    md << "`figures/retraining_time.svg`" << (is_sweep(s) ? ", `figures/f1_vs_k.svg`" : "") << ".\n";
    return md.str();
}

}  // namespace lara
