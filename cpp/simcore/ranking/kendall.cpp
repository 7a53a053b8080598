#include "simcore/ranking/kendall.hpp"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace simcore {
namespace {

// Order-preserving map of a finite double to uint64 (-0.0 and +0.0 map alike).
inline std::uint64_t sortable_key(double x) {
  x += 0.0;  // -0.0 -> +0.0: they compare equal, so they must tie
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u >> 63) ? ~u : (u | 0x8000000000000000ULL);
}

using KeyPair = std::pair<std::uint64_t, std::uint64_t>;  // (key of a, key of b)

// Sorts by (first, second) with an LSD radix sort on 11-bit digits: first the six
// digits of `second`, then the six of `first` (each pass stable).  Passes in which
// every key has the same digit are skipped.
void radix_sort_pairs(std::vector<KeyPair>& v) {
  constexpr int kBits = 11, kBuckets = 1 << kBits, kDigits = 6;
  std::vector<KeyPair> tmp(v.size());
  std::vector<std::size_t> count(kBuckets);
  for (int field = 1; field >= 0; --field) {
    for (int d = 0; d < kDigits; ++d) {
      const int shift = d * kBits;
      std::fill(count.begin(), count.end(), 0);
      for (const auto& p : v) {
        const std::uint64_t key = field ? p.second : p.first;
        ++count[(key >> shift) & (kBuckets - 1)];
      }
      if (std::find(count.begin(), count.end(), v.size()) != count.end()) continue;
      std::size_t sum = 0;
      for (auto& c : count) {
        const std::size_t t = c;
        c = sum;
        sum += t;
      }
      for (const auto& p : v) {
        const std::uint64_t key = field ? p.second : p.first;
        tmp[count[(key >> shift) & (kBuckets - 1)]++] = p;
      }
      v.swap(tmp);
    }
  }
}

}  // namespace

std::int64_t discordant_pairs(const double* a, const double* b, std::size_t n) {
  if (n < 2) return 0;
  // Sort by (a, b): for i < j in this order, a_i <= a_j, and a_i == a_j implies
  // b_i <= b_j, so the discordant pairs are exactly the strict inversions of b.
  std::vector<KeyPair> ab(n);
  for (std::size_t i = 0; i < n; ++i) ab[i] = {sortable_key(a[i]), sortable_key(b[i])};
  if (n < 4096) {
    std::sort(ab.begin(), ab.end());
  } else {
    radix_sort_pairs(ab);
  }
  std::vector<std::uint64_t> v(n), tmp(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = ab[i].second;

  // Bottom-up merge sort counting strict inversions (keys order like the values).
  std::int64_t inversions = 0;
  std::uint64_t* src = v.data();
  std::uint64_t* dst = tmp.data();
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
