#include "simcore/kendall.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace simcore {

std::int64_t discordant_pairs(const double* a, const double* b, std::size_t n) {
  if (n < 2) return 0;
  // Sort by (a, b): for i < j in this order, a_i <= a_j, and a_i == a_j implies
  // b_i <= b_j, so the discordant pairs are exactly the strict inversions of b.
  std::vector<std::pair<double, double>> ab(n);
  for (std::size_t i = 0; i < n; ++i) ab[i] = {a[i], b[i]};
  std::sort(ab.begin(), ab.end());
  std::vector<double> v(n), tmp(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = ab[i].second;

  // Bottom-up merge sort counting strict inversions.
  std::int64_t inversions = 0;
  double* src = v.data();
  double* dst = tmp.data();
  for (std::size_t width = 1; width < n; width *= 2) {
    for (std::size_t lo = 0; lo < n; lo += 2 * width) {
      const std::size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      std::size_t i = lo, j = mid, o = lo;
      while (i < mid && j < hi) {
        if (src[i] <= src[j]) {
          dst[o++] = src[i++];
        } else {  // src[j] is strictly smaller than every remaining left element
          inversions += static_cast<std::int64_t>(mid - i);
          dst[o++] = src[j++];
        }
      }
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    std::swap(src, dst);
  }
  return inversions;
}

}  // namespace simcore
