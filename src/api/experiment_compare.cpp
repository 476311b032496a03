// `lara compare`: two experiment runs, paired on entity, seed and K (lara/experiment.h).
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "api/experiment_report.h"
#include "core/read_file.h"
#include "lara/error.h"
#include "lara/experiment.h"

namespace lara {
namespace {

//! results.csv has the header of the entity files, with or without the hit-rate columns.
std::vector<ExperimentRow> read_results(const std::string& path) {
    const auto text = core::read_whole_file(path, ErrorKind::data);
    const auto header = text.substr(0, text.find('\n')) + "\n";
    const bool hit_rates = header == csv_header(true);
    if (!hit_rates && header != csv_header(false))
        throw Error(ErrorKind::data, path + ":1: not a results.csv of lara experiment (its header is " + core::quoted(header.substr(0, header.size() - 1)) + ")");
    return parse_rows(text, path, hit_rates);
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
    // A name asked for that is missing from a file would otherwise just drop out of the tables.
    const auto require = [](const std::vector<std::string>& names, const std::vector<ExperimentRow>& rows, std::string ExperimentRow::*field,
                            const char* what, const std::string& path) {
        for (const auto& name : names)
            if (std::none_of(rows.begin(), rows.end(), [&](const ExperimentRow& row) { return row.*field == name; }))
                throw Error(ErrorKind::usage, "compare: " + path + " has no " + what + " \"" + name + "\"");
    };
    require(methods, a, &ExperimentRow::method, "method", results_a);
    require(methods, b, &ExperimentRow::method, "method", results_b);
    require(entities, a, &ExperimentRow::entity, "entity", results_a);
    require(entities, b, &ExperimentRow::entity, "entity", results_b);
    std::set<std::string> in_b;
    for (const auto& row : b) in_b.insert(row.method);
    std::vector<std::string> compared = methods;
    if (compared.empty())
        for (const auto& row : a)
            if (row.method != "random" && in_b.count(row.method) && std::find(compared.begin(), compared.end(), row.method) == compared.end())
                compared.push_back(row.method);
    std::set<std::int64_t> ks;
    for (const auto& row : a) ks.insert(row.new_rows);

    // A pair must have scored the same test rows: runs of other protocols or --eval-from score others.
    using Key = std::tuple<std::string, std::string, std::uint64_t, std::int64_t>;
    const auto key = [](const ExperimentRow& row) { return Key{row.entity, row.method, row.seed, row.new_rows}; };
    std::map<Key, const ExperimentRow*> partner;
    for (const auto& row : b) partner[key(row)] = &row;
    std::size_t paired = 0, unpaired_a = 0;
    for (const auto& row : a) {
        if (std::find(compared.begin(), compared.end(), row.method) == compared.end()) continue;
        const auto found = partner.find(key(row));
        if (found == partner.end()) {
            ++unpaired_a;
            continue;
        }
        ++paired;
        const auto& other = *found->second;
        if (row.n_rows != other.n_rows || row.n_labelled != other.n_labelled)
            throw Error(ErrorKind::data, "compare: " + row.entity + ", seed " + std::to_string(row.seed) + ", K " + std::to_string(row.new_rows) +
                                             ": A scored " + std::to_string(row.n_rows) + " rows (" + std::to_string(row.n_labelled) +
                                             " labelled), B " + std::to_string(other.n_rows) + " (" + std::to_string(other.n_labelled) +
                                             "): the runs scored different test rows (another protocol or --eval-from?)");
    }
    std::size_t compared_b = 0;
    for (const auto& row : b) compared_b += std::find(compared.begin(), compared.end(), row.method) != compared.end();

    std::ostringstream md;
    md << "# lara compare\n\nA: `" << results_a << "`\n\nB: `" << results_b << "`\n\n"
       << "Each method of A against the same method of B on the same entity, seed and K: the mean difference A − B "
          "(seeds averaged per entity, then entities), its 95% bootstrap interval over entities, and how many entities "
          "came out better / worse in A.\n\n";
    if (unpaired_a > 0 || compared_b > paired)
        md << "Left out, without a partner of the same entity, method, seed and K: " << unpaired_a << " rows of A and "
           << compared_b - paired << " rows of B (other seeds, K or entities).\n\n";
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
    if (!any && paired == 0)
        throw Error(ErrorKind::data, "compare: no row of " + results_a + " has a row of " + results_b + " with the same method, entity, seed and K");
    if (!any)
        throw Error(ErrorKind::data, "compare: the " + std::to_string(paired) + " paired rows have no F1 to compare: their entities have no labelled scored row");
    return md.str();
}

}  // namespace lara
