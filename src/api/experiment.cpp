#include "lara/experiment.h"

#include "lara/files.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/experiment_figures.h"
#include "core/resources.h"
#include "eval/interpretation.h"
#include "eval/metrics.h"
#include "lara/bench.h"
#include "lara/lara.h"

namespace lara {
namespace {

namespace fs = std::filesystem;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// JumpStarter: the rows of the new pattern before the test period (data README).
constexpr std::int64_t kShiftNewRows = 43;
const std::vector<std::string> kMethods = {"old", "lara", "finetune", "scratch", "renorm", "full", "oracle"};
// The ablations of LARA (docs/method.md), run only when named: each is `lara` with one switch.
const std::vector<std::string> kAblations = {"lara-no-ruminate", "lara-z-only", "lara-x-only", "lara-mlp"};
const std::set<std::string> kRetrainMethods = {"lara", "finetune", "scratch", "renorm", "lara-no-ruminate", "lara-z-only",
                                               "lara-x-only", "lara-mlp"};

//! The retraining config of a method: the spec's, with the method's switch.
RetrainConfig retrain_config(const RetrainConfig& base, const std::string& method, std::uint64_t seed) {
    RetrainConfig config = base;
    config.seed = seed;
    config.method = method.rfind("lara-", 0) == 0 ? "lara" : method;
    if (method == "lara-no-ruminate") config.ruminate = false;
    if (method == "lara-z-only") config.fit_x = false;
    if (method == "lara-x-only") config.fit_z = false;
    if (method == "lara-mlp") {
        config.maps = "mlp";
        config.x_map = "full";
    }
    return config;
}
// The Dataset2 services whose metric 0 steps to a new level at train row 5716 (data README).
const std::set<std::string> kPatternChangeServices = {"service0",  "service1",  "service3",  "service5",
                                                      "service7",  "service8",  "service9",  "service10",
                                                      "service13", "service14", "service20", "service23"};

// ---- files -------------------------------------------------------------------------------------

// service2 before service10: runs of digits compare as numbers.
bool natural_less(const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
            const std::size_t i0 = i, j0 = j;
            while (i < a.size() && std::isdigit(static_cast<unsigned char>(a[i]))) ++i;
            while (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j]))) ++j;
            const auto x = a.substr(i0, i - i0), y = b.substr(j0, j - j0);
            if (x.size() != y.size()) return x.size() < y.size();
            if (x != y) return x < y;
        } else {
            if (a[i] != b[j]) return a[i] < b[j];
            ++i, ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

//! The four files of one entity; interpretation is empty when the data set has none.
struct EntityFiles {
    std::string name, train, test, labels, interpretation;
};

// ---- the plan: the spec with its defaults filled in and checked, before anything is trained -----

struct Plan {
    ExperimentSpec spec;  // protocol, new_rows and methods resolved
    fs::path out;
    std::vector<EntityFiles> entities;
    bool hit_rates = false;    // the data set has interpretation labels
    bool jumpstarter = false;  // JumpStarter Dataset2: the summary splits the services
    std::string plot_entity;
};

//! The first scored test row: R, and under standard after the K new rows taken from the test file.
std::int64_t first_scored_row(const ExperimentSpec& s, std::int64_t new_rows) {
    return std::max(s.eval_from, s.protocol == "standard" ? new_rows : std::int64_t{0});
}

bool is_sweep(const ExperimentSpec& s) { return s.new_rows.size() > 1; }

std::string joined(const std::vector<std::string>& items, const std::string& separator = ", ") {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

std::vector<EntityFiles> find_entities(const fs::path& dataset, const std::vector<std::string>& wanted) {
    if (!fs::is_directory(dataset / "train"))
        throw Error(ErrorKind::data, dataset.string() + ": not a data set folder (no train/ folder in it)");
    std::map<std::string, std::string> train;  // entity -> file name
    for (const auto& entry : fs::directory_iterator(dataset / "train"))
        if (entry.is_regular_file()) train[entry.path().stem().string()] = entry.path().filename().string();
    std::vector<std::string> names = wanted;
    if (names.empty()) {
        for (const auto& [name, file] : train) names.push_back(name);
        std::sort(names.begin(), names.end(), natural_less);
    }
    if (names.empty()) throw Error(ErrorKind::data, (dataset / "train").string() + ": no files in it");
    std::vector<EntityFiles> out;
    for (const auto& name : names) {
        const auto found = train.find(name);
        if (found == train.end())
            throw Error(ErrorKind::usage, "unknown entity \"" + name + "\": no file " + name + ".* in " + (dataset / "train").string());
        EntityFiles files{name, (dataset / "train" / found->second).string(), (dataset / "test" / found->second).string(),
                          (dataset / "test_label" / found->second).string(), ""};
        if (!fs::is_regular_file(files.test)) throw Error(ErrorKind::data, files.test + ": missing test file of " + name);
        if (!fs::is_regular_file(files.labels))
            throw Error(ErrorKind::data, files.test + ": test file without labels (no " + files.labels + ")");
        const auto interpretation = dataset / "interpretation_label" / found->second;
        if (fs::is_regular_file(interpretation)) files.interpretation = interpretation.string();
        out.push_back(std::move(files));
    }
    return out;
}

Plan make_plan(const ExperimentSpec& spec) {
    Plan plan;
    plan.spec = spec;
    auto& s = plan.spec;
    if (s.protocol != "shift" && s.protocol != "standard")
        throw Error(ErrorKind::usage, "protocol: \"" + s.protocol + "\" is neither shift nor standard");
    if (s.new_rows.empty()) s.new_rows = {s.protocol == "shift" ? kShiftNewRows : 0};
    std::sort(s.new_rows.begin(), s.new_rows.end());
    s.new_rows.erase(std::unique(s.new_rows.begin(), s.new_rows.end()), s.new_rows.end());
    if (s.new_rows.front() < 0) throw Error(ErrorKind::usage, "new_rows: K must be 0 or more");
    if (s.new_rows.front() == 0 && s.protocol == "shift")
        throw Error(ErrorKind::usage, "new_rows: the shift protocol needs at least one new row");
    if (s.new_rows.front() == 0 && is_sweep(s)) throw Error(ErrorKind::usage, "new_rows: a sweep over K needs every K > 0");
    if (s.seeds < 1) throw Error(ErrorKind::usage, "seeds: must be at least 1");
    if (s.eval_from < 0) throw Error(ErrorKind::usage, "eval_from: must be 0 or more");
    if (s.jobs < 1) throw Error(ErrorKind::usage, "jobs: must be at least 1");
    if (s.out.empty()) throw Error(ErrorKind::usage, "out: an output folder is needed");
    auto model = s.model;
    model.n_metrics = 1;  // taken from each entity's data
    model.validate();
    s.train.validate();
    s.retrain.validate();

    const auto allowed = [&s](const std::string& method) {
        if (method == "oracle") return s.eval_from > 0;
        return method == "old" || s.new_rows.front() > 0;
    };
    if (s.methods.empty())
        std::copy_if(kMethods.begin(), kMethods.end(), std::back_inserter(s.methods), allowed);
    std::vector<std::string> unique;
    for (const auto& method : s.methods) {
        if (std::find(kMethods.begin(), kMethods.end(), method) == kMethods.end() &&
            std::find(kAblations.begin(), kAblations.end(), method) == kAblations.end())
            throw Error(ErrorKind::usage, "unknown method \"" + method + "\" (known: " + joined(kMethods) + ", and the ablations " +
                                              joined(kAblations) + ")");
        if (!allowed(method))
            throw Error(ErrorKind::usage, "method " + method + (method == "oracle" ? " needs eval_from > 0 (the rows it trains on)"
                                                                                   : " needs new rows (new_rows > 0)"));
        if (std::find(unique.begin(), unique.end(), method) == unique.end()) unique.push_back(method);
    }
    s.methods = unique;

    const fs::path dataset = s.dataset;
    if (!fs::is_directory(dataset)) throw Error(ErrorKind::data, s.dataset + ": no such data set folder");
    plan.entities = find_entities(dataset, s.entities);
    plan.hit_rates = std::any_of(plan.entities.begin(), plan.entities.end(), [](const auto& e) { return !e.interpretation.empty(); });
    if (plan.hit_rates)
        for (const auto& e : plan.entities)
            if (e.interpretation.empty()) throw Error(ErrorKind::data, e.test + ": no interpretation labels, though other entities have them");
    const auto canonical = fs::canonical(dataset);
    plan.jumpstarter = canonical.filename() == "Dataset2" && canonical.parent_path().filename() == "jumpstarter";
    plan.out = s.out;
    plan.plot_entity = s.plot_entity.empty() ? plan.entities.front().name : s.plot_entity;
    if (std::none_of(plan.entities.begin(), plan.entities.end(), [&plan](const auto& e) { return e.name == plan.plot_entity; }))
        throw Error(ErrorKind::usage, "plot_entity: \"" + plan.plot_entity + "\" is not one of the entities run");
    return plan;
}

//! What decides the numbers of an entity file; a rerun into the same folder must match it, or the
//! summary would mix results of different settings. The entities are left out so that a run can
//! be split over several invocations.
std::string settings_json(const Plan& plan) {
    const auto& s = plan.spec;
    auto train = s.train.to_json();
    train.erase("seed");
    auto retrain = s.retrain.to_json();
    retrain.erase("method");
    retrain.erase("seed");
    const nlohmann::json settings = {{"dataset", fs::canonical(s.dataset).string()}, {"protocol", s.protocol},
                                     {"new_rows", s.new_rows}, {"eval_from", s.eval_from}, {"methods", s.methods},
                                     {"seeds", s.seeds}, {"model", s.model.to_json()}, {"train", train}, {"retrain", retrain}};
    return settings.dump(2) + "\n";
}

// ---- results.csv -------------------------------------------------------------------------------

//! The numeric columns after entity,method,seed,new_rows,n_rows,n_labelled,n_flagged, in file order.
struct Column {
    const char* name;
    const char* label;  // in summary.md
    double ExperimentRow::*field;
    int decimals;       // in summary.md
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
};
constexpr std::size_t kIdColumns = 7;

bool is_hit_rate(const Column& c) { return c.field == &ExperimentRow::hitrate_100 || c.field == &ExperimentRow::hitrate_150; }

std::vector<const Column*> columns(bool hit_rates) {
    std::vector<const Column*> out;
    for (const auto& c : kColumns)
        if (hit_rates || !is_hit_rate(c)) out.push_back(&c);
    return out;
}

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

std::vector<std::string> split(const std::string& line, char separator) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    std::string field;
    while (std::getline(stream, field, separator)) fields.push_back(field);
    if (!line.empty() && line.back() == separator) fields.emplace_back();
    return fields;
}

//! Reads an entity file back; `hit_rates` says which header it must have.
std::vector<ExperimentRow> read_entity_file(const fs::path& path, bool hit_rates) {
    std::ifstream in(path);
    std::string line;
    const auto fail = [&path](int number, const std::string& what) {
        return Error(ErrorKind::data, path.string() + ":" + std::to_string(number) + ": " + what);
    };
    const auto header = csv_header(hit_rates);
    if (!std::getline(in, line) || line + "\n" != header)
        throw fail(1, "not an entity file of this experiment (expected the header " + header.substr(0, header.size() - 1) + ")");
    const auto cols = columns(hit_rates);
    std::vector<ExperimentRow> rows;
    for (int number = 2; std::getline(in, line); ++number) {
        const auto fields = split(line, ',');
        if (fields.size() != kIdColumns + cols.size()) throw fail(number, "expected " + std::to_string(kIdColumns + cols.size()) + " fields");
        ExperimentRow row;
        row.hitrate_100 = row.hitrate_150 = kNaN;
        try {
            row.entity = fields[0];
            row.method = fields[1];
            row.seed = std::stoull(fields[2]);
            row.new_rows = std::stoll(fields[3]);
            row.n_rows = std::stoll(fields[4]);
            row.n_labelled = std::stoll(fields[5]);
            row.n_flagged = std::stoll(fields[6]);
            for (std::size_t i = 0; i < cols.size(); ++i) {
                const auto& text = fields[kIdColumns + i];
                row.*(cols[i]->field) = text.empty() ? kNaN : std::stod(text);
            }
        } catch (const std::exception&) {
            throw fail(number, "a field is not a number");
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

// ---- summary.md --------------------------------------------------------------------------------

std::string mean_sd(const std::vector<double>& values, int decimals) {
    if (values.empty()) return "—";
    const double n = static_cast<double>(values.size());
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
    double squares = 0;
    for (double v : values) squares += (v - mean) * (v - mean);
    const double sd = values.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
    char text[64];
    std::snprintf(text, sizeof text, "%.*f ± %.*f", decimals, mean, decimals, sd);
    return text;
}

std::vector<std::string> methods_in(const std::vector<ExperimentRow>& rows) {
    std::vector<std::string> methods;  // in order of first appearance
    for (const auto& row : rows)
        if (std::find(methods.begin(), methods.end(), row.method) == methods.end()) methods.push_back(row.method);
    return methods;
}

std::string summary_table(const std::vector<ExperimentRow>& rows, bool hit_rates) {
    const auto methods = methods_in(rows);
    const auto cols = columns(hit_rates);
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
            table += " " + mean_sd(values, c->decimals) + " |";
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
            for (const auto& row : rows)
                if (row.method == method && row.new_rows == k) values.push_back(row.f1);
            table += " " + mean_sd(values, 3) + " |";
        }
        table += "\n";
    }
    return table;
}

std::string count(std::size_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); }

std::string summary(const Plan& plan, const std::vector<ExperimentRow>& rows) {
    const auto& s = plan.spec;
    std::set<std::string> entities;
    for (const auto& row : rows) entities.insert(row.entity);
    std::ostringstream md;
    md << "# lara experiment\n\n";
    if (!s.command.empty()) md << "```sh\n" << s.command << "\n```\n\n";
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
    md << ". Model " << s.model.arch << ", window " << s.model.window << ", hidden " << s.model.hidden << ", latent "
       << s.model.latent << ", at most " << count(static_cast<std::size_t>(s.train.epochs), "epoch", "epochs") << ".\n\n"
       << "Each cell is the mean ± sample standard deviation over entities and seeds (`rows` of them).\n\n";

    // The JumpStarter services that change pattern are the case LARA is for: they come apart, and
    // all entities get a table of their own only when both kinds are there.
    std::vector<std::pair<std::string, std::vector<ExperimentRow>>> groups;
    std::vector<ExperimentRow> changed, others;
    if (plan.jumpstarter)
        for (const auto& row : rows) (kPatternChangeServices.count(row.entity) ? changed : others).push_back(row);
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
        }

    md << "## What the columns are\n\n"
       << "- `precision`, `recall`, `f1`: point-wise, at the model's own label-free threshold. **The headline.**\n"
       << "- `best_f1`: the best point-wise F1 over every threshold; **uses test labels** to pick it, an upper bound.\n"
       << "- `pa_f1`: point-adjusted F1 of the flagged rows: **inflated** (one hit counts a whole segment).\n"
       << "- `auc_pr`: average precision of the scores; averaged over the rows where a scored row is labelled.\n";
    if (plan.hit_rates) md << "- HitRate@P%: how well each row's ranking of metrics finds the labelled causes.\n";
    md << "- `random`: uniform random scores, flagging as many rows as `old` does; the floor to beat.\n"
       << "- `wall ms`, `peak RSS MiB`: the training or retraining that made the model (peak RSS is of the whole "
          "process, so with --jobs > 1 it includes the other entities' work).\n\n"
       << "Pictures: `figures/" << plan.plot_entity << ".svg` (its series, every model's scores and threshold, the labels), "
       << "`figures/retraining_time.svg`" << (is_sweep(s) ? ", `figures/f1_vs_k.svg`" : "") << ".\n";
    return md.str();
}

void write_figure(const Plan& plan, const std::string& name, const std::string& svg, ExperimentReport& report, std::mutex& mutex) {
    const auto path = plan.out / "figures" / name;
    fs::create_directories(path.parent_path());
    write_file_atomically(path.string(), svg);
    const std::lock_guard<std::mutex> lock(mutex);
    report.figures.push_back(path.string());
}

// ---- one entity --------------------------------------------------------------------------------

//! Serialises the log and estimates the time left from the model runs done so far.
class Progress {
public:
    Progress(const std::function<void(const std::string&)>& log, std::size_t n_entities, std::int64_t total_steps)
        : log_(log), n_entities_(n_entities), total_steps_(total_steps) {}

    void say(const std::string& line) {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (log_) log_(line);
    }
    void step(std::size_t entity_number, const std::string& what) {
        const double elapsed = timer_.seconds();
        const std::int64_t done = done_steps_;
        std::string left = "time left not known yet";
        if (done > 0) left = "about " + duration(elapsed / static_cast<double>(done) * static_cast<double>(total_steps_ - done)) + " left";
        say("[" + std::to_string(entity_number) + "/" + std::to_string(n_entities_) + "] " + what + " (" + duration(elapsed) +
            " elapsed, " + left + ")");
    }
    void step_done() { ++done_steps_; }
    double seconds() const { return timer_.seconds(); }

private:
    static std::string duration(double seconds) {
        const auto s = static_cast<long long>(std::llround(seconds));
        if (s < 60) return std::to_string(s) + " s";
        if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
        return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60) + " min";
    }

    std::function<void(const std::string&)> log_;
    std::size_t n_entities_;
    std::int64_t total_steps_;
    std::atomic<std::int64_t> done_steps_{0};
    std::mutex mutex_;
    core::Timer timer_;
};

//! The scored rows of one model: scores, flags and, for the hit rates, every metric ranked.
struct Scored {
    std::vector<double> scores;
    std::vector<int> anomalies;
    std::vector<std::vector<int>> ranked;  // empty without interpretation labels
};

//! The test file of one entity and the rows of it that are scored, [first, end).
struct TestData {
    const EntityFiles& files;
    Series series;
    std::vector<int> all_labels, labels;  // every row, and the scored rows
    std::int64_t first = 0;
    bool ranked = false;
};

Scored scored_rows(const ScoreResult& result, const TestData& test) {
    Scored s;
    s.scores.assign(result.scores.begin() + test.first, result.scores.end());
    s.anomalies.assign(result.anomalies.begin() + test.first, result.anomalies.end());
    if (test.ranked)
        for (std::int64_t t = test.first; t < result.n_rows; ++t) s.ranked.push_back(result.top_metrics(t, static_cast<int>(result.n_metrics)));
    return s;
}

// A stable hash (std::hash is not), so that the random baseline differs between entities.
std::uint64_t fnv1a(const std::string& text) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    return h;
}

//! Uniform random scores that flag the n_flagged highest, and a random ranking of the metrics.
Scored random_rows(const TestData& test, std::int64_t n_flagged, std::uint64_t seed) {
    std::mt19937_64 rng(fnv1a(test.files.name) + seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    Scored s;
    s.scores.resize(test.labels.size());
    for (auto& v : s.scores) v = uniform(rng);
    s.anomalies.assign(s.scores.size(), 0);
    std::vector<std::size_t> order(s.scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + n_flagged, order.end(), [&s](auto a, auto b) { return s.scores[a] > s.scores[b]; });
    for (std::int64_t i = 0; i < n_flagged; ++i) s.anomalies[order[static_cast<std::size_t>(i)]] = 1;
    if (test.ranked) {
        std::vector<int> metrics(static_cast<std::size_t>(test.series.n_metrics));
        std::iota(metrics.begin(), metrics.end(), 0);
        for (std::size_t t = 0; t < s.scores.size(); ++t) {
            std::shuffle(metrics.begin(), metrics.end(), rng);
            s.ranked.push_back(metrics);
        }
    }
    return s;
}

ExperimentRow measure(const Scored& s, const TestData& test, const std::string& method, std::uint64_t seed) {
    ExperimentRow row;
    row.entity = test.files.name;
    row.method = method;
    row.seed = seed;
    row.n_rows = static_cast<std::int64_t>(test.labels.size());
    row.n_labelled = std::count_if(test.labels.begin(), test.labels.end(), [](int v) { return v != 0; });
    row.n_flagged = std::count(s.anomalies.begin(), s.anomalies.end(), 1);
    const auto point = eval::point_metrics(s.anomalies, test.labels);
    row.precision = point.precision;
    row.recall = point.recall;
    row.f1 = point.f1;
    row.best_f1 = eval::best_f1(s.scores, test.labels).f1;
    row.pa_f1 = eval::point_metrics(eval::point_adjust(s.anomalies, test.labels), test.labels).f1;
    row.auc_pr = row.n_labelled > 0 ? eval::auc_pr(s.scores, test.labels) : kNaN;  // undefined without a labelled row
    row.hitrate_100 = row.hitrate_150 = kNaN;
    if (test.ranked) {
        const auto rates = eval::scored_hit_rates(test.files.interpretation, test.all_labels, test.files.labels, test.first, s.ranked,
                                                  test.files.test + " scored by " + method);
        row.hitrate_100 = rates.at_100;
        row.hitrate_150 = rates.at_150;
    }
    return row;
}

double mib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

//! A detector and what making it cost.
struct Made {
    Detector detector;
    double wall_ms, peak_rss_mib;
};

Made train_measured(const Series& rows, const ExperimentSpec& spec, std::uint64_t seed) {
    TrainConfig train = spec.train;
    train.seed = seed;
    core::reset_peak_rss();
    const core::Timer timer;
    auto detector = Detector::train(rows, spec.model, train, {});
    return {std::move(detector), timer.milliseconds(), mib(core::peak_rss_bytes())};
}

// Old rows followed by new rows: what `full` learns (training ignores timestamps).
Series followed_by(const Series& old_rows, const Series& new_rows) {
    Series all = old_rows;
    all.values.insert(all.values.end(), new_rows.values.begin(), new_rows.values.end());
    all.n_rows += new_rows.n_rows;
    all.timestamps.clear();
    all.source = old_rows.source + " + " + new_rows.source;
    return all;
}

//! The test file cut to the rows scored with K new rows.
void score_from(TestData& test, const ExperimentSpec& s, std::int64_t new_rows) {
    test.first = first_scored_row(s, new_rows);
    if (test.first >= test.series.n_rows)
        throw Error(ErrorKind::data, test.files.test + ": no rows left to score from row " + std::to_string(test.first));
    test.labels.assign(test.all_labels.begin() + test.first, test.all_labels.end());
}

//! Runs every seed, K and method of one entity. For the plotted entity, `figure` receives the
//! picture of its first seed and smallest K.
std::vector<ExperimentRow> run_entity(const Plan& plan, const EntityFiles& files, std::size_t number, Progress& progress,
                                      std::string* figure) {
    const auto& s = plan.spec;
    const Series train = read_series(files.train);
    TestData test{files, read_series(files.test), read_labels(files.labels), {}, 0, !files.interpretation.empty()};
    if (static_cast<std::int64_t>(test.all_labels.size()) != test.series.n_rows)
        throw Error(ErrorKind::data, files.labels + ": " + std::to_string(test.all_labels.size()) + " labels for the " +
                                         std::to_string(test.series.n_rows) + " rows of " + files.test);
    if (s.protocol == "shift" && s.new_rows.back() >= train.n_rows)
        throw Error(ErrorKind::data, files.train + ": " + std::to_string(train.n_rows) + " rows leave none for the old model after " +
                                         std::to_string(s.new_rows.back()) + " new rows");

    std::vector<ExperimentRow> rows;
    for (std::int64_t seed_index = 0; seed_index < s.seeds; ++seed_index) {
        const auto seed = static_cast<std::uint64_t>(seed_index);
        std::optional<Made> old;  // under standard one old model serves every K
        for (const auto k : s.new_rows) {
            const auto tag = files.name + " seed " + std::to_string(seed) + (is_sweep(s) ? ", K " + std::to_string(k) : "") + ": ";
            Series old_rows = train, new_rows;
            if (s.protocol == "shift") {
                old_rows = train.slice(0, train.n_rows - k);
                new_rows = train.slice(train.n_rows - k, train.n_rows);
            } else if (k > 0) {
                new_rows = test.series.slice(0, std::min(k, test.series.n_rows));
            }
            score_from(test, s, k);
            if (!old || s.protocol == "shift") {
                progress.step(number, tag + "old");
                old = train_measured(old_rows, s, seed);
                progress.step_done();
            }
            std::vector<std::pair<std::string, ScoreResult>> plotted;
            const bool plot = figure && seed_index == 0 && k == s.new_rows.front();
            const auto add_row = [&](const std::string& method, const Made& made) {
                auto result = made.detector.score(test.series);
                auto row = measure(scored_rows(result, test), test, method, seed);
                row.new_rows = k;
                row.wall_ms = made.wall_ms;
                row.peak_rss_mib = made.peak_rss_mib;
                rows.push_back(row);
                if (plot) plotted.emplace_back(method, std::move(result));
                return row;
            };
            std::int64_t n_flagged = 0;
            for (const auto& method : s.methods) {
                if (method == "old") {
                    n_flagged = add_row(method, *old).n_flagged;
                    continue;
                }
                progress.step(number, tag + method);
                std::optional<Made> made;
                if (kRetrainMethods.count(method)) {
                    auto [detector, report] = old->detector.retrain(new_rows, retrain_config(s.retrain, method, seed));
                    made = Made{std::move(detector), report.total_ms, mib(report.peak_rss_bytes)};
                } else {
                    made = train_measured(method == "full" ? followed_by(old_rows, new_rows) : test.series.slice(0, s.eval_from), s, seed);
                }
                progress.step_done();
                add_row(method, *made);
            }
            if (std::find(s.methods.begin(), s.methods.end(), "old") == s.methods.end()) {
                const auto old_scored = scored_rows(old->detector.score(test.series), test);
                n_flagged = std::count(old_scored.anomalies.begin(), old_scored.anomalies.end(), 1);
            }
            auto random = measure(random_rows(test, n_flagged, seed), test, "random", seed);
            random.new_rows = k;
            rows.push_back(random);
            if (plot) *figure = entity_figure(files.name + ": the test file, K = " + std::to_string(k) + ", seed 0", test.series,
                                              test.all_labels, test.first, plotted);
        }
    }
    return rows;
}

}  // namespace

ExperimentReport run_experiment(const ExperimentSpec& spec, const std::function<void(const std::string&)>& log) {
    const Plan plan = make_plan(spec);
    const auto& s = plan.spec;
    const auto entity_dir = plan.out / "entities";
    fs::create_directories(entity_dir);

    const auto settings = settings_json(plan);
    const auto settings_path = plan.out / "experiment.json";
    if (fs::exists(settings_path)) {
        if (read_text(settings_path) != settings)
            throw Error(ErrorKind::usage, plan.out.string() + " holds results of other settings (see its experiment.json); "
                                                              "choose another output folder or delete it");
    } else {
        write_file_atomically(settings_path.string(), settings);
    }

    ExperimentReport report;
    std::vector<std::size_t> todo;  // indices into plan.entities
    for (std::size_t i = 0; i < plan.entities.size(); ++i) {
        if (fs::exists(entity_dir / (plan.entities[i].name + ".csv")))
            report.skipped.push_back(plan.entities[i].name);
        else
            todo.push_back(i);
    }
    // Model runs per entity and seed: each K retrains, and under shift it also trains its own old model.
    const auto model_methods = static_cast<std::int64_t>(std::count_if(s.methods.begin(), s.methods.end(), [](const auto& m) { return m != "old"; }));
    const auto n_k = static_cast<std::int64_t>(s.new_rows.size());
    const auto per_seed = n_k * model_methods + (s.protocol == "shift" ? n_k : 1);
    Progress progress(log, plan.entities.size(), static_cast<std::int64_t>(todo.size()) * s.seeds * per_seed);
    for (const auto& name : report.skipped) progress.say(name + ": finished before, skipped (" + (entity_dir / (name + ".csv")).string() + ")");

    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr failure;
    std::mutex mutex;
    const auto work = [&] {
        // One thread per job, whatever J: J jobs would otherwise run J × cores threads, and the
        // numbers would depend on J (a different thread count rounds differently, and training
        // amplifies that). The setting is per thread (OpenMP's), so each worker makes it itself.
        set_threads(1);
        for (std::size_t k; !failed && (k = next++) < todo.size();) {
            const auto& files = plan.entities[todo[k]];
            try {
                std::string figure;
                const auto rows = run_entity(plan, files, todo[k] + 1, progress, files.name == plan.plot_entity ? &figure : nullptr);
                if (!figure.empty()) write_figure(plan, files.name + ".svg", figure, report, mutex);
                std::string csv = csv_header(plan.hit_rates);
                for (const auto& row : rows) csv += csv_row(row, plan.hit_rates);
                write_file_atomically((entity_dir / (files.name + ".csv")).string(), csv);
                const std::lock_guard<std::mutex> lock(mutex);
                report.computed.push_back(files.name);
            } catch (const Error& e) {
                const std::lock_guard<std::mutex> lock(mutex);
                if (!failure) failure = std::make_exception_ptr(Error(e.kind(), files.name + ": " + e.what()));
                failed = true;
            } catch (...) {
                const std::lock_guard<std::mutex> lock(mutex);
                if (!failure) failure = std::current_exception();
                failed = true;
            }
        }
    };
    const auto n_threads = std::min<std::size_t>(static_cast<std::size_t>(s.jobs), todo.size());
    if (n_threads <= 1) {
        work();
    } else {
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < n_threads; ++i) threads.emplace_back(work);
        for (auto& thread : threads) thread.join();
    }
    if (failure) std::rethrow_exception(failure);

    // Rebuilt from every entity file, so that results of earlier runs into this folder count too.
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(entity_dir))
        if (entry.is_regular_file() && entry.path().extension() == ".csv") files.push_back(entry.path());
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return natural_less(a.stem().string(), b.stem().string()); });
    std::string csv = csv_header(plan.hit_rates);
    for (const auto& file : files)
        for (auto& row : read_entity_file(file, plan.hit_rates)) {
            csv += csv_row(row, plan.hit_rates);
            report.rows.push_back(std::move(row));
        }
    report.results_csv = (plan.out / "results.csv").string();
    report.summary_md = (plan.out / "summary.md").string();
    write_file_atomically(report.results_csv, csv);
    write_file_atomically(report.summary_md, summary(plan, report.rows));
    write_figure(plan, "retraining_time.svg", retraining_time_figure("Time to make each model (mean over entities and seeds)", report.rows),
                 report, mutex);
    if (is_sweep(s))
        write_figure(plan, "f1_vs_k.svg", f1_against_k_figure("Point-wise F1 against the number of new rows K", report.rows), report, mutex);
    report.seconds = progress.seconds();
    progress.say("wrote " + report.results_csv + " (" + std::to_string(report.rows.size()) + " rows) and " + report.summary_md + " in " +
                 std::to_string(static_cast<long long>(std::llround(report.seconds))) + " s");
    return report;
}

}  // namespace lara
