// Top-K ranking kernels.
//
// Score of item i under weights w: s_i = sum_j X[i, j] * w[j], accumulated in double
// precision in the order j = 0, 1, ..., m-1.  Products of two floats are exact in
// double, so the result is the same with or without FMA, and identical to the NumPy
// reference (simcore.reference.scores).  Items are ranked by score descending, ties by
// lower index.  The kernels may test rows in float32 first, under a rigorous error
// margin, but every row that could enter the top k is rescored this way, so the result
// never depends on the float32 arithmetic.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "simcore/common/span.hpp"

namespace simcore {

// Row-major (rows, cols) float32 matrix view.
struct ItemMatrix {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
};

// Column-major (features, rows) float32 view: data[j * rows + i] is feature j of item i.
// The simulator stores its catalogue this way; scoring then needs no transposes.
struct ItemColumns {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;
  // Optional (cols,) max |x_ij| per column (see column_absmax).  When given, topk_columns
  // pre-scores in float32 under a rigorous error bound and rescores the few candidates
  // exactly; the result is the same either way.
  const float* absmax = nullptr;
};

struct TopKResult {
  std::size_t count = 0;   // number of indices written (<= k)
  bool finite = true;      // false if any score was NaN or +-inf
};

// Indices of the k best non-excluded rows of X under w, written to out[0..count).
// exclude may be null (nothing excluded); otherwise exclude[i] != 0 removes row i.
// Large inputs (>= 262144 rows) are split over `threads` threads (<= 0: all cores) into
// contiguous chunks whose best-k lists are merged; the result does not depend on it.
TopKResult topk(ItemMatrix X, const float* w, std::size_t k, const std::uint8_t* exclude,
                std::int64_t* out, int threads = 1);

// Same ranking (same scores, same ties) over a column-major catalogue.  k <= 128 and
// cols <= 64 (the simulator's limits); finite inputs are the caller's to check.
TopKResult topk_columns(ItemColumns X, const float* w, std::size_t k,
                        const std::uint8_t* exclude, std::int64_t* out);

// topk_columns when the last flag_cols (1 .. kMaxFlagCols) columns of X are exact 0/1
// flags and cls[i] = sum_j X[cols - flag_cols + j, i] << j, both the caller's to
// guarantee: the same ranking (same scores, same ties), with the flags' weights added to
// the float32 pre-scores by one table lookup per eight rows instead of one multiply-add
// per flag column.  Any other flag_cols, or cls == nullptr, is topk_columns.
inline constexpr std::size_t kMaxFlagCols = 3;
TopKResult topk_columns_flags(ItemColumns X, std::size_t flag_cols, const std::uint8_t* cls,
                              const float* w, std::size_t k, const std::uint8_t* exclude,
                              std::int64_t* out);

// Per-column max |x| of a column-major catalogue, for ItemColumns::absmax.
std::vector<float> column_absmax(ItemColumns X);

// Batched: X is (B, n, m), W is (B, m), exclude is (B, n) or null, out is (B, k) and is
// padded with -1.  finite_out[b] reports finiteness per row.  Rows are split into
// contiguous chunks over `threads` threads (<= 0: all cores).
void topk_batch(const float* X, std::size_t B, std::size_t n, std::size_t m, const float* W,
                std::size_t k, const std::uint8_t* exclude, std::int64_t* out,
                std::uint8_t* finite_out, int threads);

// Batched over a shared catalogue: row b ranks the items X[rows[b]] of a (Q, n, m)
// catalogue (rows[b] in [0, Q), the caller's to check), otherwise exactly as topk_batch
// on the gathered (B, n, m) copy, which is never made.  exclude is (B, n) or null, out
// (B, k) padded with -1, finite_out[b] per row; rows split over `threads` threads.
void topk_indexed(const float* X, std::size_t Q, std::size_t n, std::size_t m,
                  const std::int64_t* rows, std::size_t B, const float* W, std::size_t k,
                  const std::uint8_t* exclude, std::int64_t* out, std::uint8_t* finite_out,
                  int threads);

// Scores of rows [0, X.rows) into out (double); returns false if any is non-finite.
bool scores(ItemMatrix X, const float* w, double* out);

}  // namespace simcore
