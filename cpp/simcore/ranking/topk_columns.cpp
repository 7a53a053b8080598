// Top-k over a column-major catalogue (the simulators' layout): topk_columns and
// topk_columns_flags, float32 pre-scores with a rigorous margin, exact rescoring.
#include <algorithm>
#include <cmath>
#include <vector>

#include "simcore/ranking/topk.hpp"
#include "simcore/ranking/topk_chunks.hpp"

namespace simcore {
namespace {

using namespace topk_detail;

bool score_chunk_columns_generic(ItemColumns X, std::size_t r0, std::size_t n, const double* w,
                                 const std::uint8_t* ex, ChunkScores& cs) {
  bool ok = true;
  for (std::size_t r = 0; r < n; ++r) {
    cs.s[r] = score_column_row(X, r0 + r, w);
    ok &= (cs.s[r] - cs.s[r] == 0.0);
  }
  cs.margin = rounding_margin(finish_chunk(cs, 0, n, ex ? ex + r0 : nullptr));
  block_maxima(cs, 0, n);
  return ok;
}

#ifdef SIMCORE_X86
// Column-major: float32 scores of sixteen rows (two FMA chains of eight) with error at
// most cs.margin, set by the caller.  The first `fma_cols` columns are multiplied in (M
// of them when M > 0: the unrolled widths); with kFlags the remaining columns are 0/1
// flags whose bits per row are cls[i] and whose weights enter as one lookup per eight
// rows in the eight-entry float32 table of their partial sums (a lane permute).  Either
// way a float32 sum of the same products in some order, so the caller's margin holds.
// Tail rows get their exact score rounded to float.
template <int M, bool kFlags>
__attribute__((target("avx2,fma"))) bool score_chunk_columns_f32(
    ItemColumns X, std::size_t fma_cols, const std::uint8_t* cls, const float* table,
    std::size_t r0, std::size_t n, const float* w, const double* wd, const std::uint8_t* ex,
    ChunkScores& cs) {
  const std::size_t cols = M > 0 ? static_cast<std::size_t>(M) : fma_cols;
  __m256 wv[64];
  for (std::size_t j = 0; j < cols; ++j) wv[j] = _mm256_set1_ps(w[j]);
  const __m256 tv = kFlags ? _mm256_loadu_ps(table) : _mm256_setzero_ps();
  const std::uint8_t* e = ex ? ex + r0 : nullptr;
  const std::size_t n16 = n & ~(kSub - 1);
  for (std::size_t r = 0; r < n16; r += kSub) {
    const float* c0 = X.data + r0 + r;
    __m256 a0 = _mm256_mul_ps(_mm256_loadu_ps(c0), wv[0]);
    __m256 a1 = _mm256_mul_ps(_mm256_loadu_ps(c0 + 8), wv[0]);
    for (std::size_t j = 1; j < cols; ++j) {
      const float* cj = X.data + j * X.rows + r0 + r;
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(cj), wv[j], a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(cj + 8), wv[j], a1);
    }
    if (kFlags) {
      const __m128i c16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cls + r0 + r));
      a0 = _mm256_add_ps(a0, _mm256_permutevar8x32_ps(tv, _mm256_cvtepu8_epi32(c16)));
      a1 = _mm256_add_ps(a1, _mm256_permutevar8x32_ps(tv, _mm256_cvtepu8_epi32(_mm_srli_si128(c16, 8))));
    }
    store_block16(cs, r, a0, a1, e);
  }
  for (std::size_t r = n16; r < n; ++r)
    cs.a[r] = (e && e[r]) ? kNegInfF : static_cast<float>(score_column_row(X, r0 + r, wd));
  block_maxima(cs, n16 / kSub, n);
  return true;
}

// The float32 margin of topk_columns' filter (see there), or a negative value when the
// exact path must be taken (no absmax, magnitudes where float32 could overflow, no AVX2).
double columns_margin(ItemColumns X, const double* wd) {
  if (!X.absmax || !cpu_has_avx2_fma()) return -1;
  double A = 0;
  for (std::size_t j = 0; j < X.cols; ++j) A += static_cast<double>(X.absmax[j]) * std::fabs(wd[j]);
  if (!(A < 1e30)) return -1;
  return 2.0 * (static_cast<double>(X.cols) + 1) * 0x1p-24 * A + 1e-30;
}
#endif

}  // namespace

TopKResult topk_columns(ItemColumns X, const float* w, std::size_t k,
                        const std::uint8_t* exclude, std::int64_t* out) {
  return topk_columns_flags(X, 0, nullptr, w, k, exclude, out);
}

TopKResult topk_columns_flags(ItemColumns X, std::size_t flag_cols, const std::uint8_t* cls,
                              const float* w, std::size_t k, const std::uint8_t* exclude,
                              std::int64_t* out) {
  // The simulator's pages are small: k <= 128 and m <= 64 (checked by the bindings).
  if (k == 0 || X.rows == 0 || X.cols == 0 || X.cols > 64 || k > kBufferMaxK) return {0, true};
  double wd[64];
  for (std::size_t j = 0; j < X.cols; ++j) wd[j] = w[j];
  auto exact = [&](const ChunkScores&, std::size_t r0, std::size_t r) {
    return score_column_row(X, r0 + r, wd);
  };
#ifdef SIMCORE_X86
  // float32 pre-scores when a rigorous error bound is available: with A = sum_j
  // max_i |x_ij| |w_j|, a float32 sum of m products (any order, FMA or not) is within
  // gamma_m A = m 2^-24 A / (1 - m 2^-24) of the exact value, and the double reference
  // within gamma_m(2^-53) A; the margin doubles their sum and adds an absolute term for
  // products that underflow.  From A = 1e30 on float32 could overflow: exact path.
  const double margin = columns_margin(X, wd);
  if (margin >= 0) {
    const bool flags = cls && flag_cols >= 1 && flag_cols <= kMaxFlagCols && flag_cols < X.cols;
    const std::size_t mb = flags ? X.cols - flag_cols : X.cols;
    alignas(32) float table[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (std::size_t c = 0; flags && c < 8; ++c)  // partial sums of the flags' weights
      for (std::size_t j = 0; j < flag_cols; ++j)
        if ((c >> j) & 1) table[c] += w[mb + j];
    // Exact rescoring: the flag columns' values are read from cls (the rows' columns past
    // the first mb may be cold; the filter never touched them), the same terms in order.
    auto exact_flags = [&](const ChunkScores&, std::size_t r0, std::size_t r) {
      const std::size_t i = r0 + r;
      const float* x = X.data + i;
      const std::size_t N = X.rows;
      double acc = static_cast<double>(x[0]) * wd[0];
      if (mb == 8) {
        for (std::size_t j = 1; j < 8; ++j) acc += static_cast<double>(x[j * N]) * wd[j];
      } else {
        for (std::size_t j = 1; j < mb; ++j) acc += static_cast<double>(x[j * N]) * wd[j];
      }
      const unsigned c = cls[i];  // (no branch on the random bits: it would mispredict)
      for (std::size_t j = 0; j < flag_cols; ++j) acc += static_cast<double>((c >> j) & 1u) * wd[mb + j];
      return acc;
    };
    auto score = [&](std::size_t r0, std::size_t n, ChunkScores& cs) {
      cs.margin = margin;
      // Unrolled for the search catalogue (8 columns), the tiered-traffic one (8 base
      // columns + 3 tier flags) and its flag path (8 base columns); others loop.
      if (flags) {
        if (mb == 8) return score_chunk_columns_f32<8, true>(X, mb, cls, table, r0, n, w, wd, exclude, cs);
        return score_chunk_columns_f32<0, true>(X, mb, cls, table, r0, n, w, wd, exclude, cs);
      }
      if (mb == 8) return score_chunk_columns_f32<8, false>(X, mb, cls, table, r0, n, w, wd, exclude, cs);
      if (mb == 11) return score_chunk_columns_f32<11, false>(X, mb, cls, table, r0, n, w, wd, exclude, cs);
      return score_chunk_columns_f32<0, false>(X, mb, cls, table, r0, n, w, wd, exclude, cs);
    };
    if (flags) return select_chunks(X.rows, k, score, exact_flags, out);
    return select_chunks(X.rows, k, score, exact, out);
  }
#else
  (void)flag_cols, (void)cls;
#endif
  auto score = [&](std::size_t r0, std::size_t n, ChunkScores& cs) {
    return score_chunk_columns_generic(X, r0, n, wd, exclude, cs);
  };
  auto exact_s = [](const ChunkScores& cs, std::size_t, std::size_t r) { return cs.s[r]; };
  return select_chunks(X.rows, k, score, exact_s, out);
}

std::vector<float> column_absmax(ItemColumns X) {
  std::vector<float> mx(X.cols, 0.0f);
  for (std::size_t j = 0; j < X.cols; ++j)
    for (std::size_t i = 0; i < X.rows; ++i) mx[j] = std::max(mx[j], std::fabs(X.data[j * X.rows + i]));
  return mx;
}

}  // namespace simcore