// Internal to the top-k kernels (topk.cpp, topk_columns.cpp): exact scoring, the
// best-k buffer and the chunked float32-filtered selection both layouts share.
// Not part of the public API; everything lives in simcore::topk_detail.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>

#include "simcore/ranking/topk.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SIMCORE_X86 1
#endif

namespace simcore {
namespace topk_detail {

inline constexpr std::size_t kBufferMaxK = 128;  // above this, select with nth_element
inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();
inline constexpr float kNegInfF = -std::numeric_limits<float>::infinity();

// ---------------------------------------------------------------------------------------
// Exact scores: double accumulation in feature order.

// Generic scorer.  Returns false on a non-finite score.
inline bool score_rows_generic(const float* x, std::size_t rows, std::size_t m, const double* w,
                        double* out) {
  bool ok = true;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * m;
    double acc = static_cast<double>(row[0]) * w[0];
    for (std::size_t j = 1; j < m; ++j) acc += static_cast<double>(row[j]) * w[j];
    out[r] = acc;
    ok &= (acc - acc == 0.0);
  }
  return ok;
}

#ifdef SIMCORE_X86
inline bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

// Score of row r of a column-major catalogue, in the same order as score_rows_generic.
inline double score_column_row(ItemColumns X, std::size_t r, const double* w) {
  double acc = static_cast<double>(X.data[r]) * w[0];
  for (std::size_t j = 1; j < X.cols; ++j) acc += static_cast<double>(X.data[j * X.rows + r]) * w[j];
  return acc;
}

// Sorted buffer of the best candidates: score descending, index ascending on ties.
// thr is the score to beat: -inf until k candidates are held.  Candidates arrive in
// increasing index order, so a score equal to thr never displaces.
struct BestBuffer {
  std::size_t k;
  std::size_t count = 0;
  double thr = kNegInf;
  double score[kBufferMaxK];
  std::int64_t index[kBufferMaxK];

  explicit BestBuffer(std::size_t k_) : k(k_) {}
  // Requires s > thr.
  void push(double s, std::int64_t i) {
    std::size_t pos = count < k ? count : k - 1;
    while (pos > 0 && score[pos - 1] < s) {
      score[pos] = score[pos - 1];
      index[pos] = index[pos - 1];
      --pos;
    }
    score[pos] = s;
    index[pos] = i;
    if (count < k) ++count;
    if (count == k) thr = score[k - 1];
  }
  std::size_t finish(std::int64_t* out) const {
    for (std::size_t i = 0; i < count; ++i) out[i] = index[i];
    return count;
  }
};

// ---------------------------------------------------------------------------------------
// Chunked selection.
//
// Rows are scored kChunk at a time.  Every row gets a float32 filter score a_r within
// `margin` of its exact score (excluded rows: -inf), and every 16-row block its maximum.
// The blocks are paired into 32 disjoint groups (block b with block b + 32).  If T is the
// k-th largest group maximum, k distinct groups hold a row with a >= T, so the chunk's
// k-th best exact score is >= T - margin, and only rows with a >= T - 2 margin can be in
// its top k.  For N = 1000 and k = 10 that is typically 11-14 rows, which are rescored
// exactly and sorted.  Finding T, the blocks above it and the rows above it are done with
// compares and masks rather than data-dependent branches, which on random scores would
// mispredict about half the time.

inline constexpr std::size_t kChunk = 1024;
inline constexpr std::size_t kSub = 16;
inline constexpr std::size_t kBlocks = kChunk / kSub;  // 64
inline constexpr std::size_t kGroups = 32;

struct ChunkScores {
  alignas(32) float a[kChunk + kSub];  // filter scores; -inf if excluded and as padding
  alignas(32) float bm[kBlocks];       // block maxima; -inf past the last block
  alignas(32) double s[kChunk];        // exact scores, when the scorer computes them
  double margin = 0;                   // |a_r - exact_r| <= margin for every kept row
};

struct Candidate {
  double score;
  std::int64_t index;
};

inline bool ranks_before(const Candidate& x, const Candidate& y) {
  return x.score > y.score || (x.score == y.score && x.index < y.index);
}

// Filter score of an exact double score: rounded to float, never -inf for a kept row.
inline float filter_of(double s) {
  return std::max(static_cast<float>(s), -std::numeric_limits<float>::max());
}

// Margin for filter scores that are exact scores rounded to float (error <= 2^-24 |s|);
// infinite, which disables the bound, when float could overflow.
inline double rounding_margin(double max_abs) {
  return max_abs < 1e38 ? 0x1p-23 * max_abs : std::numeric_limits<double>::infinity();
}

// Fills a[from, n) from exact scores s (with exclusion), block maxima from block from/16
// on, and the -inf padding.  Returns max |s| over the kept rows of [from, n).
inline double finish_chunk(ChunkScores& cs, std::size_t from, std::size_t n, const std::uint8_t* ex) {
  double max_abs = 0;
  for (std::size_t r = from; r < n; ++r) {
    if (ex && ex[r]) {
      cs.a[r] = kNegInfF;
    } else {
      cs.a[r] = filter_of(cs.s[r]);
      max_abs = std::max(max_abs, std::fabs(cs.s[r]));
    }
  }
  return max_abs;
}

// Block maxima of blocks [b0, 64) from a[] (rows past n must already be -inf), and the
// padding of a[n, next multiple of 16).
inline void block_maxima(ChunkScores& cs, std::size_t b0, std::size_t n) {
  const std::size_t n_pad = (n + kSub - 1) / kSub * kSub;
  for (std::size_t r = n; r < n_pad; ++r) cs.a[r] = kNegInfF;
  for (std::size_t b = b0; b < kBlocks; ++b) {
    float mx = kNegInfF;
    if (b * kSub < n)
      for (std::size_t r = b * kSub; r < (b + 1) * kSub; ++r) mx = cs.a[r] > mx ? cs.a[r] : mx;
    cs.bm[b] = mx;
  }
}

// Compaction table: positions of the set bits of every byte.
struct CompactTable {
  std::uint8_t pos[256][8];
  constexpr CompactTable() : pos() {
    for (int m = 0; m < 256; ++m) {
      int p = 0;
      for (int b = 0; b < 8; ++b)
        if (m >> b & 1) pos[m][p++] = static_cast<std::uint8_t>(b);
    }
  }
};
inline constexpr CompactTable kCompact{};

// k-th largest of the 32 group maxima (k <= 32), generic.
inline float kth_group_max_generic(const float* bm, std::size_t k) {
  float g[kGroups];
  for (std::size_t i = 0; i < kGroups; ++i) g[i] = std::max(bm[i], bm[i + kGroups]);
  std::nth_element(g, g + (k - 1), g + kGroups, std::greater<float>());
  return g[k - 1];
}

#ifdef SIMCORE_X86
__attribute__((target("avx2,fma"), always_inline)) inline float hmax_ps(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

// k-th largest of the 32 group maxima (k <= 32) without branches: for every value t,
// count the values >= t (all 32 x 32 comparisons, eight at a time through rotations);
// the answer is the largest t whose count reaches k.
__attribute__((target("avx2,fma"))) inline float kth_group_max_avx2(const float* bm, std::size_t k) {
  __m256 g[4];
  for (int i = 0; i < 4; ++i)
    g[i] = _mm256_max_ps(_mm256_load_ps(bm + 8 * i), _mm256_load_ps(bm + kGroups + 8 * i));
  __m256i cnt[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
  const __m256i rotate = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
  for (int j = 0; j < 4; ++j) {
    __m256 v = g[j];
    for (int r = 0; r < 8; ++r) {
      for (int i = 0; i < 4; ++i)  // mask is -1 where v >= g[i]: subtracting counts it
        cnt[i] = _mm256_sub_epi32(cnt[i], _mm256_castps_si256(_mm256_cmp_ps(v, g[i], _CMP_GE_OQ)));
      v = _mm256_permutevar8x32_ps(v, rotate);
    }
  }
  const __m256i need = _mm256_set1_epi32(static_cast<int>(k) - 1);
  const __m256 none = _mm256_set1_ps(kNegInfF);
  __m256 best = none;
  for (int i = 0; i < 4; ++i) {
    const __m256 ok = _mm256_castsi256_ps(_mm256_cmpgt_epi32(cnt[i], need));
    best = _mm256_max_ps(best, _mm256_blendv_ps(none, g[i], ok));
  }
  return hmax_ps(best);
}

// Chunk rows (as int32 offsets) whose filter score is >= lim; lim is finite.
__attribute__((target("avx2,fma"))) inline std::size_t gather_avx2(const ChunkScores& cs, float lim,
                                                             std::int32_t* idx) {
  const __m256 lv = _mm256_set1_ps(lim);
  std::uint64_t blocks = 0;
  for (int i = 0; i < 8; ++i)
    blocks |= static_cast<std::uint64_t>(_mm256_movemask_ps(
                  _mm256_cmp_ps(_mm256_load_ps(cs.bm + 8 * i), lv, _CMP_GE_OQ)))
              << (8 * i);
  std::size_t c = 0;
  while (blocks) {
    const int b = __builtin_ctzll(blocks);
    blocks &= blocks - 1;
    for (int h = 0; h < 2; ++h) {
      const int r = b * static_cast<int>(kSub) + 8 * h;
      const int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_load_ps(cs.a + r), lv, _CMP_GE_OQ));
      const __m128i pos = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kCompact.pos[m]));
      const __m256i rows = _mm256_add_epi32(_mm256_cvtepu8_epi32(pos), _mm256_set1_epi32(r));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + c), rows);
      c += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(m)));
    }
  }
  return c;
}
#endif

inline std::size_t gather_generic(const ChunkScores& cs, float lim, std::int32_t* idx) {
  std::size_t c = 0;
  for (std::size_t b = 0; b < kBlocks; ++b) {
    if (!(cs.bm[b] >= lim)) continue;
    for (std::size_t r = b * kSub; r < (b + 1) * kSub; ++r)
      if (cs.a[r] >= lim) idx[c++] = static_cast<std::int32_t>(r);
  }
  return c;
}

// Merges the best rows of a scored chunk (rows base .. base + n) into `best`.
// exact(r) is the exact score of chunk row r.
template <class Exact>
inline void select_chunk(const ChunkScores& cs, std::size_t n, std::int64_t base, Exact&& exact,
                  BestBuffer& best) {
  const std::size_t k = best.k;
  double lim = kNegInf;
  if (cs.margin < std::numeric_limits<double>::infinity()) {
    float T = kNegInfF;
    if (k <= kGroups) {
#ifdef SIMCORE_X86
      T = cpu_has_avx2_fma() ? kth_group_max_avx2(cs.bm, k) : kth_group_max_generic(cs.bm, k);
#else
      T = kth_group_max_generic(cs.bm, k);
#endif
    } else if ((n + kSub - 1) / kSub >= k) {
      float tmp[kBlocks];
      std::copy(cs.bm, cs.bm + kBlocks, tmp);
      std::nth_element(tmp, tmp + (k - 1), tmp + kBlocks, std::greater<float>());
      T = tmp[k - 1];
    }
    if (T > kNegInfF) lim = static_cast<double>(T) - 2 * cs.margin;
    if (best.count == k) lim = std::max(lim, best.thr - cs.margin);  // must beat what is held
  }
  std::int32_t idx[kChunk + 8];
  std::size_t c = 0;
  if (lim == kNegInf) {  // no usable bound: every kept row is a candidate
    for (std::size_t r = 0; r < n; ++r)
      if (cs.a[r] != kNegInfF) idx[c++] = static_cast<std::int32_t>(r);
  } else {
    // The bound rounded down to float (and to the lowest finite float, so that excluded
    // rows at -inf never pass).
    float lf = static_cast<float>(lim);
    if (static_cast<double>(lf) > lim) lf = std::nextafter(lf, kNegInfF);
    lf = std::max(lf, -std::numeric_limits<float>::max());
#ifdef SIMCORE_X86
    c = cpu_has_avx2_fma() ? gather_avx2(cs, lf, idx) : gather_generic(cs, lf, idx);
#else
    c = gather_generic(cs, lf, idx);
#endif
  }
  Candidate cand[kChunk];
  for (std::size_t i = 0; i < c; ++i) {
    const auto r = static_cast<std::size_t>(idx[i]);
    cand[i] = {exact(r), base + static_cast<std::int64_t>(r)};
  }
  const std::size_t take = std::min(c, k);
  if (c <= 32) {  // the usual case: a handful of candidates, insertion sort
    for (std::size_t i = 1; i < c; ++i) {
      const Candidate x = cand[i];
      std::size_t j = i;
      for (; j > 0 && ranks_before(x, cand[j - 1]); --j) cand[j] = cand[j - 1];
      cand[j] = x;
    }
  } else {
    std::partial_sort(cand, cand + take, cand + c, ranks_before);
  }
  for (std::size_t i = 0; i < take && cand[i].score > best.thr; ++i)
    best.push(cand[i].score, cand[i].index);
}

// Runs score_chunk(r0, n, cs) -> finite over the rows kChunk at a time and selects.
template <class ScoreChunk, class Exact>
TopKResult select_chunks(std::size_t rows, std::size_t k, ScoreChunk&& score_chunk,
                         Exact&& exact, std::int64_t* out) {
  BestBuffer best(k);
  ChunkScores cs;
  for (std::size_t r0 = 0; r0 < rows; r0 += kChunk) {
    const std::size_t n = std::min(kChunk, rows - r0);
    // A non-finite score makes the whole call an error; stop before comparing NaNs.
    if (!score_chunk(r0, n, cs)) return {0, false};
    select_chunk(cs, n, static_cast<std::int64_t>(r0),
                 [&](std::size_t r) { return exact(cs, r0, r); }, best);
  }
  return {best.finish(out), true};
}

#ifdef SIMCORE_X86
// Stores the float32 filter scores of chunk rows [r, r + 16) (lo: the first eight) with
// excluded rows at -inf, and the block's maximum.
__attribute__((target("avx2,fma"), always_inline)) inline void store_block16(
    ChunkScores& cs, std::size_t r, __m256 lo, __m256 hi, const std::uint8_t* ex) {
  if (ex) {
    const __m256 neg_inf = _mm256_set1_ps(kNegInfF);
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ex + r));
    const __m256i zero = _mm256_setzero_si256();
    const __m256i ex_lo = _mm256_cvtepu8_epi32(bytes);
    const __m256i ex_hi = _mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8));
    lo = _mm256_blendv_ps(lo, neg_inf, _mm256_castsi256_ps(_mm256_cmpgt_epi32(ex_lo, zero)));
    hi = _mm256_blendv_ps(hi, neg_inf, _mm256_castsi256_ps(_mm256_cmpgt_epi32(ex_hi, zero)));
  }
  _mm256_store_ps(cs.a + r, lo);
  _mm256_store_ps(cs.a + r + 8, hi);
  cs.bm[r / kSub] = hmax_ps(_mm256_max_ps(lo, hi));
}
#endif

}  // namespace topk_detail
}  // namespace simcore
