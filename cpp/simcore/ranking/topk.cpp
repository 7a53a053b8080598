#include "simcore/ranking/topk.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "simcore/common/parallel.hpp"
#include "simcore/ranking/topk_chunks.hpp"

namespace simcore {
namespace {

using namespace topk_detail;

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

#endif


bool score_rows(const float* x, std::size_t rows, std::size_t m, const double* w, double* out) {
#ifdef SIMCORE_X86
  if (m == 8 && cpu_has_avx2_fma()) return score_rows_m8_avx2(x, rows, w, out);
#endif
  return score_rows_generic(x, rows, m, w, out);
}

// ---------------------------------------------------------------------------------------
// Chunk scorers.  Each fills cs for chunk rows [0, n) = rows [r0, r0 + n) of X.

bool score_chunk_rows_generic(ItemMatrix X, std::size_t r0, std::size_t n, const double* w,
                              const std::uint8_t* ex, ChunkScores& cs) {
  const bool ok = score_rows_generic(X.data + r0 * X.cols, n, X.cols, w, cs.s);
  cs.margin = rounding_margin(finish_chunk(cs, 0, n, ex ? ex + r0 : nullptr));
  block_maxima(cs, 0, n);
  return ok;
}

#ifdef SIMCORE_X86
// Four float lanes set to -inf where the 4 exclusion bytes at ex are non-zero.
__attribute__((target("avx2,fma"), always_inline)) inline __m128 exclude4(__m128 a,
                                                                         const std::uint8_t* ex) {
  std::int32_t bytes;
  std::memcpy(&bytes, ex, 4);
  const __m128i wide = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(bytes));
  const __m128 drop = _mm_castsi128_ps(_mm_cmpgt_epi32(wide, _mm_setzero_si128()));
  return _mm_blendv_ps(a, _mm_set1_ps(kNegInfF), drop);
}

// Row-major m == 8: exact double scores four rows at a time, rounded to float filters.
__attribute__((target("avx2,fma"))) bool score_chunk_rows_m8(ItemMatrix X, std::size_t r0,
                                                              std::size_t n, const double* w,
                                                              const std::uint8_t* ex,
                                                              ChunkScores& cs) {
  __m256d wv[8];
  for (int j = 0; j < 8; ++j) wv[j] = _mm256_set1_pd(w[j]);
  __m256d bad = _mm256_setzero_pd(), max_abs = _mm256_setzero_pd();
  const __m256d zero = _mm256_setzero_pd(), sign = _mm256_set1_pd(-0.0);
  const __m128 lowest = _mm_set1_ps(-std::numeric_limits<float>::max());
  const float* x = X.data + r0 * 8;
  const std::uint8_t* e = ex ? ex + r0 : nullptr;
  const std::size_t n16 = n & ~(kSub - 1);
  for (std::size_t r = 0; r < n16; r += kSub) {
    __m128 f[4];
    for (int q = 0; q < 4; ++q) {
      const __m256d s = score4_m8(x + (r + 4 * q) * 8, wv);
      bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(s, s), zero, _CMP_NEQ_UQ));
      _mm256_store_pd(cs.s + r + 4 * q, s);
      f[q] = _mm_max_ps(_mm256_cvtpd_ps(s), lowest);
      if (e) f[q] = exclude4(f[q], e + r + 4 * q);
      max_abs = _mm256_max_pd(max_abs, _mm256_andnot_pd(sign, s));  // excluded too: safe
    }
    const __m256 lo = _mm256_set_m128(f[1], f[0]), hi = _mm256_set_m128(f[3], f[2]);
    _mm256_store_ps(cs.a + r, lo);
    _mm256_store_ps(cs.a + r + 8, hi);
    cs.bm[r / kSub] = hmax_ps(_mm256_max_ps(lo, hi));
  }
  bool ok = _mm256_movemask_pd(bad) == 0;
  alignas(32) double m4[4];
  _mm256_store_pd(m4, max_abs);
  double mx = std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]));
  if (n16 < n) {
    ok &= score_rows_generic(x + n16 * 8, n - n16, 8, w, cs.s + n16);
    mx = std::max(mx, finish_chunk(cs, n16, n, e));
  }
  cs.margin = rounding_margin(mx);
  block_maxima(cs, n16 / kSub, n);
  return ok;
}

// Eight rows of a row-major m == 8 matrix in float32: f = x_r . w and a = |x_r| . |w|
// (the error bound's A_r), the rows transposed in registers first.
__attribute__((target("avx2,fma"), always_inline)) inline void score8_rows_f32(
    const float* p, const __m256* wv, const __m256* wa, __m256& f, __m256& a) {
  const __m256 t0 = _mm256_unpacklo_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8));
  const __m256 t1 = _mm256_unpackhi_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8));
  const __m256 t2 = _mm256_unpacklo_ps(_mm256_loadu_ps(p + 16), _mm256_loadu_ps(p + 24));
  const __m256 t3 = _mm256_unpackhi_ps(_mm256_loadu_ps(p + 16), _mm256_loadu_ps(p + 24));
  const __m256 t4 = _mm256_unpacklo_ps(_mm256_loadu_ps(p + 32), _mm256_loadu_ps(p + 40));
  const __m256 t5 = _mm256_unpackhi_ps(_mm256_loadu_ps(p + 32), _mm256_loadu_ps(p + 40));
  const __m256 t6 = _mm256_unpacklo_ps(_mm256_loadu_ps(p + 48), _mm256_loadu_ps(p + 56));
  const __m256 t7 = _mm256_unpackhi_ps(_mm256_loadu_ps(p + 48), _mm256_loadu_ps(p + 56));
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  const __m256 col[8] = {_mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                         _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                         _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                         _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
  const __m256 sign = _mm256_set1_ps(-0.0f);
  f = _mm256_mul_ps(col[0], wv[0]);
  a = _mm256_mul_ps(_mm256_andnot_ps(sign, col[0]), wa[0]);
  for (int j = 1; j < 8; ++j) {
    f = _mm256_fmadd_ps(col[j], wv[j], f);
    a = _mm256_fmadd_ps(_mm256_andnot_ps(sign, col[j]), wa[j], a);
  }
}

// Row-major m == 8, first chunk, in float32 (score8_rows_f32) with one margin for the
// chunk from the largest A_r: 2 * 9 * 2^-24 max A_r covers the float32 and double
// rounding (see stream_rows_m8).  Returns false, leaving the chunk to the exact scorer,
// when that bound is unusable: non-finite input, or magnitudes where float32 overflows.
__attribute__((target("avx2,fma"))) bool score_chunk_rows_m8_f32(ItemMatrix X, std::size_t r0,
                                                                  std::size_t n, const double* w,
                                                                  const std::uint8_t* ex,
                                                                  ChunkScores& cs) {
  __m256 wv[8], wa[8];
  for (int j = 0; j < 8; ++j) {
    wv[j] = _mm256_set1_ps(static_cast<float>(w[j]));
    wa[j] = _mm256_set1_ps(static_cast<float>(std::fabs(w[j])));
  }
  __m256 max_a = _mm256_setzero_ps();
  const float* x = X.data + r0 * 8;
  const std::uint8_t* e = ex ? ex + r0 : nullptr;
  const std::size_t n16 = n & ~(kSub - 1);
  for (std::size_t r = 0; r < n16; r += kSub) {
    for (int l = 0; l < 8; ++l)  // 4 KiB ahead, as in stream_rows_m8
      _mm_prefetch(reinterpret_cast<const char*>(x + r * 8 + 1024 + 16 * l), _MM_HINT_T0);
    __m256 f0, a0, f1, a1;
    score8_rows_f32(x + r * 8, wv, wa, f0, a0);
    score8_rows_f32(x + (r + 8) * 8, wv, wa, f1, a1);
    max_a = _mm256_max_ps(max_a, _mm256_max_ps(a0, a1));  // NaN lanes: caught below
    // NaN in a row makes a NaN; max_ps keeps its second operand on NaN, so check directly
    const __m256 nan = _mm256_or_ps(_mm256_cmp_ps(a0, a0, _CMP_UNORD_Q), _mm256_cmp_ps(a1, a1, _CMP_UNORD_Q));
    if (_mm256_movemask_ps(nan)) return false;
    store_block16(cs, r, f0, f1, e);
  }
  double A = hmax_ps(max_a);
  for (std::size_t r = n16; r < n; ++r) {  // tail: exact scores rounded to float
    double s;
    if (!score_rows_generic(x + r * 8, 1, 8, w, &s)) return false;
    double ar = 0;
    for (int j = 0; j < 8; ++j) ar += std::fabs(static_cast<double>(x[r * 8 + j]) * w[j]);
    A = std::max(A, ar);
    cs.a[r] = (e && e[r]) ? kNegInfF : static_cast<float>(s);
  }
  if (!(A < 1e37)) return false;  // inf (overflow or inf input) or too close to overflow
  cs.margin = 18 * 0x1p-24 * A + 1e-30;
  block_maxima(cs, n16 / kSub, n);
  return true;
}

// Row-major m == 8 after the first chunk.  Rows rarely beat the k-th best by then, so
// each is only tested against it, in float32: eight rows are transposed in registers and
// scored with eight FMAs, and with A_r = sum_j |x_rj| |w_j| (eight more) the test
// f_r + c A_r >= thr keeps every row whose exact score can exceed thr: the float32 sum is
// within gamma_8 A_r of the exact score, the double reference within gamma_8(2^-53) A_r,
// and c = 18 * 2^-24 covers both plus the rounding of the test itself.  A NaN or inf
// (overflow, or non-finite input) also passes, so such rows reach the exact rescoring,
// which also detects non-finite input.
__attribute__((target("avx2,fma"))) bool stream_rows_m8(ItemMatrix X, std::size_t r_begin,
                                                         const double* w,
                                                         const std::uint8_t* ex,
                                                         BestBuffer& best) {
  __m256 wv[8], wa[8];
  for (int j = 0; j < 8; ++j) {
    wv[j] = _mm256_set1_ps(static_cast<float>(w[j]));  // w came from float32: exact
    wa[j] = _mm256_set1_ps(static_cast<float>(std::fabs(w[j])));
  }
  const __m256 c = _mm256_set1_ps(18 * 0x1p-24f);
  auto bound = [&best]() {  // best.thr (less an underflow slack) rounded down to float
    if (best.thr == kNegInf) return kNegInfF;
    const double lim = best.thr - 1e-30;
    float lf = static_cast<float>(lim);
    if (static_cast<double>(lf) > lim) lf = std::nextafter(lf, kNegInfF);
    return lf;
  };
  __m256 thr = _mm256_set1_ps(bound());
  const std::size_t n8 = r_begin + ((X.rows - r_begin) & ~std::size_t{7});
  for (std::size_t r = r_begin; r < n8; r += 8) {
    const float* p = X.data + r * 8;
    // Software prefetch 4 KiB ahead: measured 25-30 % faster at N = 1e6 than leaving it to
    // the hardware prefetcher alone (the transposes keep the loop busy between loads).
    for (int l = 0; l < 4; ++l)
      _mm_prefetch(reinterpret_cast<const char*>(p + 1024 + 16 * l), _MM_HINT_T0);
    __m256 f, a;
    score8_rows_f32(p, wv, wa, f, a);
    int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_fmadd_ps(a, c, f), thr, _CMP_NLT_UQ));
    if (mask == 0) continue;
    while (mask) {
      const int j = __builtin_ctz(static_cast<unsigned>(mask));
      mask &= mask - 1;
      const std::size_t row = r + static_cast<std::size_t>(j);
      double s;
      if (!score_rows_generic(X.data + row * 8, 1, 8, w, &s)) return false;
      if (ex && ex[row]) continue;
      if (s > best.thr) best.push(s, static_cast<std::int64_t>(row));
    }
    thr = _mm256_set1_ps(bound());
  }
  for (std::size_t row = n8; row < X.rows; ++row) {
    double s;
    if (!score_rows_generic(X.data + row * 8, 1, 8, w, &s)) return false;
    if (ex && ex[row]) continue;
    if (s > best.thr) best.push(s, static_cast<std::int64_t>(row));
  }
  return true;
}
#endif

// ---------------------------------------------------------------------------------------
// Drivers.

TopKResult topk_buffered(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* ex,
                         std::int64_t* out) {
  auto exact = [](const ChunkScores& cs, std::size_t, std::size_t r) { return cs.s[r]; };
#ifdef SIMCORE_X86
  if (X.cols == 8 && cpu_has_avx2_fma()) {
    // First chunk: selection with the group-maximum bound; then streaming against the
    // k-th best so far (chunked selection would store and re-read every score).
    auto score = [&](std::size_t r0, std::size_t n, ChunkScores& cs) {
      return score_chunk_rows_m8(X, r0, n, w, ex, cs);
    };
    const std::size_t head = std::min(X.rows, kChunk);
    BestBuffer best(k);
    ChunkScores cs;
    if (score_chunk_rows_m8_f32(X, 0, head, w, ex, cs)) {
      const auto rescore = [&](std::size_t r) {
        double s;
        score_rows_generic(X.data + r * 8, 1, 8, w, &s);
        return s;
      };
      select_chunk(cs, head, 0, rescore, best);
    } else {
      if (!score(0, head, cs)) return {0, false};
      select_chunk(cs, head, 0, [&](std::size_t r) { return cs.s[r]; }, best);
    }
    if (head < X.rows && !stream_rows_m8(X, head, w, ex, best)) return {0, false};
    return {best.finish(out), true};
  }
#endif
  auto score = [&](std::size_t r0, std::size_t n, ChunkScores& cs) {
    return score_chunk_rows_generic(X, r0, n, w, ex, cs);
  };
  return select_chunks(X.rows, k, score, exact, out);
}

TopKResult topk_select(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* ex,
                       std::int64_t* out) {
  std::vector<double> s(X.rows);
  if (!score_rows(X.data, X.rows, X.cols, w, s.data())) return {0, false};
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
  return {take, true};
}

TopKResult topk_serial(ItemMatrix X, const double* w, std::size_t k, const std::uint8_t* exclude,
                       std::int64_t* out) {
  if (k <= kBufferMaxK) return topk_buffered(X, w, k, exclude, out);
  return topk_select(X, w, k, exclude, out);
}

constexpr std::size_t kParallelRows = 1 << 18;  // below this, threads cost more than they save

}  // namespace

bool scores(ItemMatrix X, const float* w, double* out) {
  std::vector<double> wd(w, w + X.cols);
  return score_rows(X.data, X.rows, X.cols, wd.data(), out);
}

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

void topk_indexed(const float* X, std::size_t Q, std::size_t n, std::size_t m,
                  const std::int64_t* rows, std::size_t B, const float* W, std::size_t k,
                  const std::uint8_t* exclude, std::int64_t* out, std::uint8_t* finite_out,
                  int threads) {
  (void)Q;  // rows[b] < Q is checked by the caller
  parallel_for(B, threads, 8, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t b = b0; b < b1; ++b) {
      std::int64_t* o = out + b * k;
      ItemMatrix xm{X + static_cast<std::size_t>(rows[b]) * n * m, n, m};
      const std::uint8_t* ex = exclude ? exclude + b * n : nullptr;
      const TopKResult r = topk(xm, W + b * m, k, ex, o);
      for (std::size_t i = r.count; i < k; ++i) o[i] = -1;
      finite_out[b] = r.finite ? 1 : 0;
    }
  });
}

}  // namespace simcore
