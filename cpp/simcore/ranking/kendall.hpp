// Pairwise ranking disagreement.
#pragma once
#include <cstddef>
#include <cstdint>

namespace simcore {

// Number of pairs i < j with (a_i - a_j) * (b_i - b_j) < 0, in O(n log n).
// Pairs tied in a or in b are not discordant.  Inputs must be finite.
std::int64_t discordant_pairs(const double* a, const double* b, std::size_t n);

}  // namespace simcore
