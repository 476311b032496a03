// eval/paired.h: how sure a difference between two methods is, measured on the same entities and
// seeds. A mean over entities hides whether a method wins everywhere by a little or somewhere by a
// lot, and the spread over entities (± in summary.md) is not the uncertainty of a difference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lara::eval {

//! One paired difference a − b of a metric, with the entity it was measured on (its seeds are
//! several differences with the same entity).
struct Difference {
    std::string entity;
    double value = 0;
};

//! Below this many entities the percentile bootstrap says little: with 2 entities its interval is
//! exactly [min, max] of their means, so any two that move the same way would "exclude 0".
constexpr std::size_t kMinEntitiesForInterval = 5;

struct PairedSummary {
    std::size_t entities = 0;
    double mean = 0;          // the mean over entities of each entity's mean difference
    double low = 0, high = 0; // 95% percentile-bootstrap interval of that mean
    std::size_t better = 0, worse = 0;  // entities whose mean difference is > 0, < 0 (beyond 1e-12: rounding)

    //! Whether [low, high] is worth reporting (see kMinEntitiesForInterval).
    bool has_interval() const { return entities >= kMinEntitiesForInterval; }
};

//! The bootstrap resamples whole entities (with replacement), keeping each entity's seeds
//! together, since seeds of one entity are not independent evidence. `resamples` draws from a
//! generator seeded with `seed`, so a summary is reproducible. Throws lara::Error (usage) for no
//! differences or fewer than 2 resamples.
PairedSummary paired_summary(const std::vector<Difference>& differences, std::size_t resamples = 10000, std::uint64_t seed = 0);

}  // namespace lara::eval
