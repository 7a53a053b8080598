#include "simcore/topk.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "simcore/parallel.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SIMCORE_X86 1
#endif

namespace simcore {
namespace {

constexpr std::size_t kBlock = 256;         // rows scored per block (fits in L1)
constexpr std::size_t kBufferMaxK = 128;    // above this, select with nth_element

// Generic scorer: sequential-order double accumulation. Returns false on non-finite.
bool score_rows_generic(const float* x, std::size_t rows, std::size_t m, const double* w,
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
// m == 8: four rows at a time, transposed in registers, FMA chain over features.
// Products of floats are exact in double, so fma(x, w, acc) == acc + x * w here.
__attribute__((target("avx2,fma"), always_inline)) inline __m256d score4_m8(const float* p,
                                                                           const __m256d* wv) {
  __m256 r0 = _mm256_loadu_ps(p), r1 = _mm256_loadu_ps(p + 8), r2 = _mm256_loadu_ps(p + 16),
         r3 = _mm256_loadu_ps(p + 24);
  __m256d lo0 = _mm256_cvtps_pd(_mm256_castps256_ps128(r0));
  __m256d lo1 = _mm256_cvtps_pd(_mm256_castps256_ps128(r1));
  __m256d lo2 = _mm256_cvtps_pd(_mm256_castps256_ps128(r2));
  __m256d lo3 = _mm256_cvtps_pd(_mm256_castps256_ps128(r3));
  __m256d hi0 = _mm256_cvtps_pd(_mm256_extractf128_ps(r0, 1));
  __m256d hi1 = _mm256_cvtps_pd(_mm256_extractf128_ps(r1, 1));
  __m256d hi2 = _mm256_cvtps_pd(_mm256_extractf128_ps(r2, 1));
  __m256d hi3 = _mm256_cvtps_pd(_mm256_extractf128_ps(r3, 1));
  __m256d t0 = _mm256_unpacklo_pd(lo0, lo1), t1 = _mm256_unpackhi_pd(lo0, lo1);
  __m256d t2 = _mm256_unpacklo_pd(lo2, lo3), t3 = _mm256_unpackhi_pd(lo2, lo3);
  __m256d u0 = _mm256_unpacklo_pd(hi0, hi1), u1 = _mm256_unpackhi_pd(hi0, hi1);
  __m256d u2 = _mm256_unpacklo_pd(hi2, hi3), u3 = _mm256_unpackhi_pd(hi2, hi3);
  __m256d acc = _mm256_mul_pd(_mm256_permute2f128_pd(t0, t2, 0x20), wv[0]);
  acc = _mm256_fmadd_pd(_mm256_permute2f128_pd(t1, t3, 0x20), wv[1], acc);
  acc = _mm256_fmadd_pd(_mm256_permute2f128_pd(t0, t2, 0x31), wv[2], acc);
  acc = _mm256_fmadd_pd(_mm256_permute2f128_pd(t1, t3, 0x31), wv[3], acc);
  acc = _mm256_fmadd_pd(_mm256_permute2f128_pd(u0, u2, 0x20), wv[4], acc);
  acc = _mm256_fmadd_pd(_mm256_permute2f128_pd(u1, u3, 0x20), wv[5], acc);
  acc = _mm256_fmadd_pd(_mm256_permute2f128_pd(u0, u2, 0x31), wv[6], acc);
  acc = _mm256_fmadd_pd(_mm256_permute2f128_pd(u1, u3, 0x31), wv[7], acc);
  return acc;
}

__attribute__((target("avx2,fma"))) bool score_rows_m8_avx2(const float* x, std::size_t rows,
                                                             const double* w, double* out) {
  __m256d wv[8];
  for (int j = 0; j < 8; ++j) wv[j] = _mm256_set1_pd(w[j]);
  __m256d bad = _mm256_setzero_pd();
  const __m256d zero = _mm256_setzero_pd();
  std::size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const __m256d acc = score4_m8(x + r * 8, wv);
    _mm256_storeu_pd(out + r, acc);
    bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(acc, acc), zero, _CMP_NEQ_UQ));
  }
  bool ok = _mm256_movemask_pd(bad) == 0;
  if (r < rows) ok &= score_rows_generic(x + r * 8, rows - r, 8, w, out + r);
  return ok;
}

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#endif

bool score_rows(const float* x, std::size_t rows, std::size_t m, const double* w, double* out) {
#ifdef SIMCORE_X86
  if (m == 8 && cpu_has_avx2_fma()) return score_rows_m8_avx2(x, rows, w, out);
#endif
  return score_rows_generic(x, rows, m, w, out);
}

// Sorted buffer of the best candidates: score descending, index ascending on ties.
// thr is the score to beat: -inf until k candidates are held.  Candidates arrive in
// increasing index order, so a score equal to thr never displaces.
struct BestBuffer {
  std::size_t k;
  std::size_t count = 0;
  double thr = -std::numeric_limits<double>::infinity();
  double score[kBufferMaxK];
  std::int64_t index[kBufferMaxK];

  explicit BestBuffer(std::size_t k_) : k(k_) {}
  double threshold() const { return thr; }
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

TopKResult topk_buffered(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* ex,
                         std::int64_t* out);

#ifdef SIMCORE_X86
// Fused m == 8 path: score four rows, compare with the current k-th best in SIMD, and
// touch the buffer only for rows that beat it.
__attribute__((target("avx2,fma"))) TopKResult topk_m8_avx2(ItemMatrix X, const double* w,
                                                             std::size_t k,
                                                             const std::uint8_t* ex,
                                                             std::int64_t* out);
#endif

TopKResult topk_buffered(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* ex,
                         std::int64_t* out) {
#ifdef SIMCORE_X86
  if (X.cols == 8 && cpu_has_avx2_fma()) return topk_m8_avx2(X, w, k, ex, out);
#endif
  BestBuffer best(k);
  double s[kBlock];
  bool finite = true;
  for (std::size_t r0 = 0; r0 < X.rows; r0 += kBlock) {
    const std::size_t nb = std::min(kBlock, X.rows - r0);
    finite &= score_rows(X.data + r0 * X.cols, nb, X.cols, w, s);
    for (std::size_t r = 0; r < nb; ++r) {
      if (s[r] > best.thr && !(ex && ex[r0 + r])) best.push(s[r], static_cast<std::int64_t>(r0 + r));
    }
  }
  return {best.finish(out), finite};
}

#ifdef SIMCORE_X86
__attribute__((target("avx2,fma"))) TopKResult topk_m8_avx2(ItemMatrix X, const double* w,
                                                             std::size_t k,
                                                             const std::uint8_t* ex,
                                                             std::int64_t* out) {
  BestBuffer best(k);
  __m256d wv[8];
  for (int j = 0; j < 8; ++j) wv[j] = _mm256_set1_pd(w[j]);
  __m256d bad = _mm256_setzero_pd();
  const __m256d zero = _mm256_setzero_pd();
  __m256d thr = _mm256_set1_pd(-std::numeric_limits<double>::infinity());
  const std::size_t n8 = X.rows & ~std::size_t{7};
  alignas(32) double s[8];
  for (std::size_t r = 0; r < n8; r += 8) {
    // two independent groups of four rows per iteration, for instruction-level parallelism
    const __m256d a0 = score4_m8(X.data + r * 8, wv);
    const __m256d a1 = score4_m8(X.data + r * 8 + 32, wv);
    bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(a0, a0), zero, _CMP_NEQ_UQ));
    bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(a1, a1), zero, _CMP_NEQ_UQ));
    if (_mm256_movemask_pd(_mm256_cmp_pd(_mm256_max_pd(a0, a1), thr, _CMP_GT_OQ)) == 0) continue;
    int mask = _mm256_movemask_pd(_mm256_cmp_pd(a0, thr, _CMP_GT_OQ)) |
               _mm256_movemask_pd(_mm256_cmp_pd(a1, thr, _CMP_GT_OQ)) << 4;
    _mm256_store_pd(s, a0);
    _mm256_store_pd(s + 4, a1);
    while (mask) {
      const int j = __builtin_ctz(static_cast<unsigned>(mask));
      mask &= mask - 1;
      const std::size_t row = r + static_cast<std::size_t>(j);
      if (ex && ex[row]) continue;
      if (s[j] > best.thr) best.push(s[j], static_cast<std::int64_t>(row));
    }
    thr = _mm256_set1_pd(best.thr);
  }
  bool finite = _mm256_movemask_pd(bad) == 0;
  if (n8 < X.rows) {
    double tail[8];
    const std::size_t nt = X.rows - n8;
    finite &= score_rows_generic(X.data + n8 * 8, nt, 8, w, tail);
    for (std::size_t j = 0; j < nt; ++j) {
      const std::size_t row = n8 + j;
      if (ex && ex[row]) continue;
      if (tail[j] > best.thr) best.push(tail[j], static_cast<std::int64_t>(row));
    }
  }
  return {best.finish(out), finite};
}
#endif

TopKResult topk_select(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* ex,
                       std::int64_t* out) {
  std::vector<double> s(X.rows);
  const bool finite = score_rows(X.data, X.rows, X.cols, w, s.data());
  std::vector<std::int64_t> idx;
  idx.reserve(X.rows);
  for (std::size_t i = 0; i < X.rows; ++i)
    if (!ex || !ex[i]) idx.push_back(static_cast<std::int64_t>(i));
  auto better = [&s](std::int64_t a, std::int64_t b) {
    return s[a] > s[b] || (s[a] == s[b] && a < b);
  };
  const std::size_t take = std::min(k, idx.size());
  if (take < idx.size()) {
    std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(take), idx.end(),
                     better);
  }
  std::sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(take), better);
  std::copy(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(take), out);
  return {take, finite};
}


bool score_columns_generic(ItemColumns X, std::size_t r0, std::size_t nb, const double* w,
                           double* out) {
  bool ok = true;
  for (std::size_t r = 0; r < nb; ++r) {
    double acc = static_cast<double>(X.data[r0 + r]) * w[0];
    for (std::size_t j = 1; j < X.cols; ++j)
      acc += static_cast<double>(X.data[j * X.rows + r0 + r]) * w[j];
    out[r] = acc;
    ok &= (acc - acc == 0.0);
  }
  return ok;
}

#ifdef SIMCORE_X86
// Scores of rows [r, r + 16) from a column-major catalogue: four independent FMA chains
// (4 rows each) so the chains' latency overlaps.  M > 0 fixes the feature count at
// compile time; M == 0 reads it from X.cols.
template <int M>
__attribute__((target("avx2,fma"), always_inline)) inline void score16_columns(
    const ItemColumns& X, std::size_t r, const __m256d* wv, __m256d acc[4]) {
  const std::size_t cols = M > 0 ? static_cast<std::size_t>(M) : X.cols;
  const float* c0 = X.data + r;
  for (int q = 0; q < 4; ++q) acc[q] = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(c0 + 4 * q)), wv[0]);
  for (std::size_t j = 1; j < cols; ++j) {
    const float* cj = X.data + j * X.rows + r;
    for (int q = 0; q < 4; ++q)
      acc[q] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(cj + 4 * q)), wv[j], acc[q]);
  }
}

template <int M>
__attribute__((target("avx2,fma"))) TopKResult topk_columns_avx2(ItemColumns X, const double* w,
                                                                  std::size_t k,
                                                                  const std::uint8_t* ex,
                                                                  std::int64_t* out) {
  // No finiteness check here: callers (the simulator) validate catalogue and weights.
  BestBuffer best(k);
  __m256d wv[64];
  for (std::size_t j = 0; j < X.cols; ++j) wv[j] = _mm256_set1_pd(w[j]);
  __m256d thr = _mm256_set1_pd(-std::numeric_limits<double>::infinity());
  const std::size_t n16 = X.rows & ~std::size_t{15};
  alignas(32) double s[16];
  __m256d acc[4];
  for (std::size_t r = 0; r < n16; r += 16) {
    score16_columns<M>(X, r, wv, acc);
    const __m256d top = _mm256_max_pd(_mm256_max_pd(acc[0], acc[1]), _mm256_max_pd(acc[2], acc[3]));
    if (_mm256_movemask_pd(_mm256_cmp_pd(top, thr, _CMP_GT_OQ)) == 0) continue;
    int mask = 0;
    for (int q = 0; q < 4; ++q)
      mask |= _mm256_movemask_pd(_mm256_cmp_pd(acc[q], thr, _CMP_GT_OQ)) << (4 * q);
    if (ex) {  // drop excluded rows sixteen at a time
      const __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ex + r));
      mask &= _mm_movemask_epi8(_mm_cmpeq_epi8(e, _mm_setzero_si128()));
    }
    if (mask == 0) continue;
    for (int q = 0; q < 4; ++q) _mm256_store_pd(s + 4 * q, acc[q]);
    while (mask) {
      const int j = __builtin_ctz(static_cast<unsigned>(mask));
      mask &= mask - 1;
      if (s[j] > best.thr) best.push(s[j], static_cast<std::int64_t>(r + static_cast<std::size_t>(j)));
    }
    thr = _mm256_set1_pd(best.thr);
  }
  if (n16 < X.rows) {
    double tail[16];
    score_columns_generic(X, n16, X.rows - n16, w, tail);
    for (std::size_t j = 0; n16 + j < X.rows; ++j) {
      const std::size_t row = n16 + j;
      if (ex && ex[row]) continue;
      if (tail[j] > best.thr) best.push(tail[j], static_cast<std::int64_t>(row));
    }
  }
  return {best.finish(out), true};
}
#endif

TopKResult topk_columns_generic(ItemColumns X, const double* w, std::size_t k,
                                const std::uint8_t* ex, std::int64_t* out) {
  std::vector<double> s(X.rows);
  const bool finite = score_columns_generic(X, 0, X.rows, w, s.data());
  BestBuffer best(k);
  for (std::size_t r = 0; r < X.rows; ++r)
    if (s[r] > best.thr && !(ex && ex[r])) best.push(s[r], static_cast<std::int64_t>(r));
  return {best.finish(out), finite};
}
}  // namespace

bool scores(ItemMatrix X, const float* w, double* out) {
  std::vector<double> wd(w, w + X.cols);
  return score_rows(X.data, X.rows, X.cols, wd.data(), out);
}

namespace {

TopKResult topk_serial(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* exclude,
                       std::int64_t* out) {
  if (k <= kBufferMaxK) return topk_buffered(X, w, k, exclude, out);
  return topk_select(X, w, k, exclude, out);
}

constexpr std::size_t kParallelRows = 1 << 18;  // below this, threads cost more than they save

}  // namespace

TopKResult topk(ItemMatrix X, const float* w, std::size_t k, const std::uint8_t* exclude,
                std::int64_t* out, int threads) {
  if (k == 0 || X.rows == 0) return {0, true};
  std::vector<double> wd(w, w + X.cols);
  const std::size_t t = threads <= 0 ? static_cast<std::size_t>(default_threads())
                                     : static_cast<std::size_t>(threads);
  if (t <= 1 || X.rows < kParallelRows || k > kBufferMaxK)
    return topk_serial(X, wd.data(), k, exclude, out);
  // Each contiguous chunk keeps its own best k; the union is then ranked once more.
  const std::size_t chunks = std::min(t, X.rows / (kParallelRows / 2));
  std::vector<std::int64_t> cand(chunks * k);
  std::vector<std::size_t> counts(chunks);
  std::vector<std::uint8_t> finite(chunks, 1);
  parallel_for(chunks, static_cast<int>(chunks), 1, [&](std::size_t c0, std::size_t c1) {
    for (std::size_t c = c0; c < c1; ++c) {
      const std::size_t r0 = X.rows * c / chunks, r1 = X.rows * (c + 1) / chunks;
      ItemMatrix part{X.data + r0 * X.cols, r1 - r0, X.cols};
      const TopKResult r = topk_serial(part, wd.data(), k, exclude ? exclude + r0 : nullptr,
                                       cand.data() + c * k);
      for (std::size_t i = 0; i < r.count; ++i) cand[c * k + i] += static_cast<std::int64_t>(r0);
      counts[c] = r.count;
      finite[c] = r.finite ? 1 : 0;
    }
  });
  BestBuffer best(k);
  bool all_finite = true;
  double s = 0;
  for (std::size_t c = 0; c < chunks; ++c) {  // chunks in index order keep the tie rule
    all_finite &= finite[c] != 0;
    for (std::size_t i = 0; i < counts[c]; ++i) {
      const std::int64_t idx = cand[c * k + i];
      score_rows_generic(X.data + static_cast<std::size_t>(idx) * X.cols, 1, X.cols, wd.data(), &s);
      if (s > best.thr) best.push(s, idx);
    }
  }
  return {best.finish(out), all_finite};
}

void topk_batch(const float* X, std::size_t B, std::size_t n, std::size_t m, const float* W,
                std::size_t k, const std::uint8_t* exclude, std::int64_t* out,
                std::uint8_t* finite_out, int threads) {
  parallel_for(B, threads, 8, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      std::int64_t* o = out + b * k;
      ItemMatrix xm{X + b * n * m, n, m};
      const std::uint8_t* ex = exclude ? exclude + b * n : nullptr;
      const TopKResult r = topk(xm, W + b * m, k, ex, o);
      for (std::size_t i = r.count; i < k; ++i) o[i] = -1;
      finite_out[b] = r.finite ? 1 : 0;
    }
  });
}

}  // namespace simcore

namespace simcore {

TopKResult topk_columns(ItemColumns X, const float* w, std::size_t k,
                        const std::uint8_t* exclude, std::int64_t* out) {
  // The simulator's pages are small (k <= 128, m <= 64): buffered selection only.
  if (k == 0 || X.rows == 0) return {0, true};
  double wd[64];
  for (std::size_t j = 0; j < X.cols && j < 64; ++j) wd[j] = w[j];
#ifdef SIMCORE_X86
  if (X.cols <= 64 && k <= kBufferMaxK && cpu_has_avx2_fma())
    return X.cols == 8 ? topk_columns_avx2<8>(X, wd, k, exclude, out)
                       : topk_columns_avx2<0>(X, wd, k, exclude, out);
#endif
  return topk_columns_generic(X, wd, k, exclude, out);
}

}  // namespace simcore
