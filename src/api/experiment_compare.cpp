// `lara compare`: two experiment runs, paired on entity, seed and K (lara/experiment.h).
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "api/experiment_report.h"
#include "lara/error.h"
#include "lara/experiment.h"

namespace lara {
namespace {

//! results.csv has the header of the entity files, with or without the hit-rate columns.
std::vector<ExperimentRow> read_results(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::data, path + ": cannot be read");
    std::string header;
    std::getline(in, header);
    header += "\n";
    const bool hit_rates = header == csv_header(true);
    if (!hit_rates && header != csv_header(false))
        throw Error(ErrorKind::data, path + ":1: not a results.csv of lara experiment (its header is \"" + header.substr(0, header.size() - 1) + "\")");
    return read_entity_file(path, hit_rates);
}

}  // namespace

std::string compare_experiments(const std::string& results_a, const std::string& results_b, const std::vector<std::string>& methods,
                                const std::vector<std::string>& entities) {
    const auto keep = [&](const std::vector<ExperimentRow>& rows) {
        std::vector<ExperimentRow> out;
        std::copy_if(rows.begin(), rows.end(), std::back_inserter(out), [&](const ExperimentRow& row) {
            return entities.empty() || std::find(entities.begin(), entities.end(), row.entity) != entities.end();
        });
        return out;
    };
    const auto a = keep(read_results(results_a)), b = keep(read_results(results_b));
    std::set<std::string> in_b;
    for (const auto& row : b) in_b.insert(row.method);
    std::vector<std::string> compared = methods;
    if (compared.empty())
        for (const auto& row : a)
            if (row.method != "random" && in_b.count(row.method) && std::find(compared.begin(), compared.end(), row.method) == compared.end())
                compared.push_back(row.method);
    std::set<std::int64_t> ks;
    for (const auto& row : a) ks.insert(row.new_rows);

    std::ostringstream md;
    md << "# lara compare\n\nA: `" << results_a << "`\n\nB: `" << results_b << "`\n\n"
       << "Each method of A against the same method of B on the same entity, seed and K: the mean difference A − B "
          "(seeds averaged per entity, then entities), its 95% bootstrap interval over entities, and how many entities "
          "came out better / worse in A.\n\n";
    bool any = false;
    for (const auto k : ks) {
        std::string tables;
        for (const auto& method : compared) {
            std::vector<ExperimentRow> rows_a, rows_b;
            for (const auto& row : a)
                if (row.method == method && row.new_rows == k) rows_a.push_back(row);
            for (const auto& row : b)
                if (row.method == method && row.new_rows == k) rows_b.push_back(row);
            tables += paired_lines(rows_a, rows_b);
        }
        if (tables.empty()) continue;
        any = true;
        md << "## K = " << k << "\n\n" << kPairedHeader << tables << "\n";
    }
    if (!any) throw Error(ErrorKind::usage, "compare: no row of " + results_a + " has a row of " + results_b + " with the same method, entity, seed and K");
    return md.str();
}

}  // namespace lara
