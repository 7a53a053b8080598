#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>

#include "checks.hpp"
#include "simcore/ranking/kendall.hpp"
#include "simcore/ranking/topk.hpp"

namespace py = pybind11;
using simcore_py::expect;

namespace {

void check_finite_weights(const float* w, std::size_t n, const char* name) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(w[i])) throw py::value_error(std::string(name) + ": contains NaN or inf");
}

const char* kNonFinite = "X: contains NaN or inf";

// `exclude`: None, or a bool array of the given shape (kept alive with its pointer).
struct OptionalMask {
  py::array_t<bool> array;
  const std::uint8_t* data = nullptr;
};

OptionalMask optional_mask(const py::handle& exo, std::vector<py::ssize_t> shape) {
  OptionalMask mask;
  if (!exo.is_none()) {
    mask.array = expect<bool>(exo, "exclude", std::move(shape));
    mask.data = reinterpret_cast<const std::uint8_t*>(mask.array.data());
  }
  return mask;
}

py::array_t<std::int64_t> topk_py(const py::handle& Xo, const py::handle& wo, py::ssize_t k,
                                   const py::handle& exo, int threads) {
  auto X = expect<float>(Xo, "X", {-1, -1});
  const py::ssize_t n = X.shape(0), m = X.shape(1);
  if (n == 0) throw py::value_error("X: needs at least one item (N = 0)");
  if (m == 0) throw py::value_error("X: needs at least one feature (m = 0)");
  auto w = expect<float>(wo, "w", {m});
  if (k <= 0) throw py::value_error("k: must be positive, got " + std::to_string(k));
  const OptionalMask exclude = optional_mask(exo, {n});
  const std::uint8_t* ex = exclude.data;
  check_finite_weights(w.data(), static_cast<std::size_t>(m), "w");
  const std::size_t kk = static_cast<std::size_t>(std::min<py::ssize_t>(k, n));
  std::vector<std::int64_t> buf(kk);
  simcore::TopKResult r;
  {
    py::gil_scoped_release release;
    r = simcore::topk({X.data(), static_cast<std::size_t>(n), static_cast<std::size_t>(m)},
                      w.data(), kk, ex, buf.data(), threads);
  }
  if (!r.finite) throw py::value_error(kNonFinite);
  py::array_t<std::int64_t> out(static_cast<py::ssize_t>(r.count));
  std::copy(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.count), out.mutable_data());
  return out;
}

py::array_t<std::int64_t> topk_batch_py(const py::handle& Xo, const py::handle& Wo,
                                         py::ssize_t k, const py::handle& exo, int threads) {
  auto X = expect<float>(Xo, "X", {-1, -1, -1});
  const py::ssize_t B = X.shape(0), n = X.shape(1), m = X.shape(2);
  if (B == 0) throw py::value_error("X: needs at least one row (B = 0)");
  if (n == 0) throw py::value_error("X: needs at least one item per row (N = 0)");
  if (m == 0) throw py::value_error("X: needs at least one feature (m = 0)");
  auto W = expect<float>(Wo, "W", {B, m});
  if (k <= 0) throw py::value_error("k: must be positive, got " + std::to_string(k));
  const OptionalMask exclude = optional_mask(exo, {B, n});
  const std::uint8_t* ex = exclude.data;
  check_finite_weights(W.data(), static_cast<std::size_t>(B * m), "W");
  k = std::min(k, n);  // output (B, min(k, N)): never more columns than items
  py::array_t<std::int64_t> out({B, k});
  std::vector<std::uint8_t> finite(static_cast<std::size_t>(B));
  {
    py::gil_scoped_release release;
    simcore::topk_batch(X.data(), B, n, m, W.data(), static_cast<std::size_t>(k), ex,
                        out.mutable_data(), finite.data(), threads);
  }
  for (auto f : finite)
    if (!f) throw py::value_error(kNonFinite);
  return out;
}

// topk_batch over a shared catalogue X (Q, N, m): row b ranks X[rows[b]].
py::array_t<std::int64_t> topk_indexed_py(const py::handle& Xo, const py::handle& ro,
                                           const py::handle& Wo, py::ssize_t k,
                                           const py::handle& exo, int threads) {
  auto X = expect<float>(Xo, "X", {-1, -1, -1});
  const py::ssize_t Q = X.shape(0), n = X.shape(1), m = X.shape(2);
  if (Q == 0) throw py::value_error("X: needs at least one catalogue (Q = 0)");
  if (n == 0) throw py::value_error("X: needs at least one item per catalogue (N = 0)");
  if (m == 0) throw py::value_error("X: needs at least one feature (m = 0)");
  auto rows = expect<std::int64_t>(ro, "rows", {-1});
  const py::ssize_t B = rows.shape(0);
  if (B == 0) throw py::value_error("rows: needs at least one row (B = 0)");
  for (py::ssize_t b = 0; b < B; ++b)
    if (rows.data()[b] < 0 || rows.data()[b] >= Q)
      throw py::value_error("rows: entries must lie in [0, " + std::to_string(Q) + "), got " +
                            std::to_string(rows.data()[b]) + " at " + std::to_string(b));
  auto W = expect<float>(Wo, "W", {B, m});
  if (k <= 0) throw py::value_error("k: must be positive, got " + std::to_string(k));
  const OptionalMask exclude = optional_mask(exo, {B, n});
  check_finite_weights(W.data(), static_cast<std::size_t>(B * m), "W");
  k = std::min(k, n);
  py::array_t<std::int64_t> out({B, k});
  std::vector<std::uint8_t> finite(static_cast<std::size_t>(B));
  {
    py::gil_scoped_release release;
    simcore::topk_indexed(X.data(), static_cast<std::size_t>(Q), static_cast<std::size_t>(n),
                          static_cast<std::size_t>(m), rows.data(), static_cast<std::size_t>(B),
                          W.data(), static_cast<std::size_t>(k), exclude.data, out.mutable_data(),
                          finite.data(), threads);
  }
  for (auto f : finite)
    if (!f) throw py::value_error(kNonFinite);
  return out;
}

// The simulator's column-major kernel, exposed for tests: Xc is the catalogue transposed,
// float32 (m, N); with absmax=True the float32 pre-scoring path runs (as in the simulator).
py::array_t<std::int64_t> topk_columns_py(const py::handle& Xo, const py::handle& wo,
                                           py::ssize_t k, const py::handle& exo, bool absmax) {
  auto X = expect<float>(Xo, "Xc", {-1, -1});
  const py::ssize_t m = X.shape(0), n = X.shape(1);
  if (n == 0) throw py::value_error("Xc: needs at least one item (N = 0)");
  if (m == 0 || m > 64) throw py::value_error("Xc: needs 1 to 64 features (rows)");
  auto w = expect<float>(wo, "w", {m});
  if (k <= 0 || k > 128) throw py::value_error("k: must be in [1, 128], got " + std::to_string(k));
  const OptionalMask exclude = optional_mask(exo, {n});
  const std::uint8_t* ex = exclude.data;
  check_finite_weights(w.data(), static_cast<std::size_t>(m), "w");
  check_finite_weights(X.data(), static_cast<std::size_t>(m * n), "Xc");
  const std::size_t kk = static_cast<std::size_t>(std::min<py::ssize_t>(k, n));
  std::vector<std::int64_t> buf(kk);
  simcore::TopKResult r;
  {
    py::gil_scoped_release release;
    simcore::ItemColumns cols{X.data(), static_cast<std::size_t>(n), static_cast<std::size_t>(m)};
    const std::vector<float> mx = simcore::column_absmax(cols);
    if (absmax) cols.absmax = mx.data();
    r = simcore::topk_columns(cols, w.data(), kk, ex, buf.data());
  }
  py::array_t<std::int64_t> out(static_cast<py::ssize_t>(r.count));
  std::copy(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.count), out.mutable_data());
  return out;
}

std::int64_t discordant_py(const py::handle& ao, const py::handle& bo) {
  auto a = expect<double>(ao, "a", {-1});
  auto b = expect<double>(bo, "b", {a.shape(0)});
  for (py::ssize_t i = 0; i < a.shape(0); ++i) {
    if (!std::isfinite(a.data()[i])) throw py::value_error("a: contains NaN or inf");
    if (!std::isfinite(b.data()[i])) throw py::value_error("b: contains NaN or inf");
  }
  py::gil_scoped_release release;
  return simcore::discordant_pairs(a.data(), b.data(), static_cast<std::size_t>(a.shape(0)));
}

}  // namespace

void register_ranking(py::module_& m) {
  m.def("topk", &topk_py, py::arg("X"), py::arg("w"), py::arg("k"), py::arg("exclude") = py::none(),
        py::arg("threads") = 0,
        "Indices of the k best rows of X (float32 (N, m)) under w (float32 (m,)).");
  m.def("topk_batch", &topk_batch_py, py::arg("X"), py::arg("W"), py::arg("k"),
        py::arg("exclude") = py::none(), py::arg("threads") = 0,
        "Batched topk: X float32 (B, N, m), W float32 (B, m) -> int64 (B, min(k, N)), "
        "-1 padded.");
  m.def("topk_indexed", &topk_indexed_py, py::arg("X"), py::arg("rows"), py::arg("W"), py::arg("k"),
        py::arg("exclude") = py::none(), py::arg("threads") = 0,
        "topk_batch over a shared catalogue: X float32 (Q, N, m), rows int64 (B,) in [0, Q), "
        "W float32 (B, m) -> int64 (B, min(k, N)), row b ranking X[rows[b]], -1 padded.");
  m.def("_topk_columns", &topk_columns_py, py::arg("Xc"), py::arg("w"), py::arg("k"),
        py::arg("exclude") = py::none(), py::arg("absmax") = true,
        "Test hook: the simulator's column-major topk over Xc float32 (m, N).");
  m.def("discordant_pairs", &discordant_py, py::arg("a"), py::arg("b"),
        "Number of pairs i<j with (a_i-a_j)(b_i-b_j) < 0 (float64 inputs), O(n log n).");
  m.def(
      "scores",
      [](const py::handle& Xo, const py::handle& wo) {
        auto X = expect<float>(Xo, "X", {-1, -1});
        if (X.shape(0) == 0) throw py::value_error("X: needs at least one item (N = 0)");
        if (X.shape(1) == 0) throw py::value_error("X: needs at least one feature (m = 0)");
        auto w = expect<float>(wo, "w", {X.shape(1)});
        check_finite_weights(w.data(), static_cast<std::size_t>(X.shape(1)), "w");
        py::array_t<double> out(X.shape(0));
        {
          py::gil_scoped_release release;
          simcore::scores({X.data(), static_cast<std::size_t>(X.shape(0)),
                           static_cast<std::size_t>(X.shape(1))},
                          w.data(), out.mutable_data());
        }
        return out;
      },
      py::arg("X"), py::arg("w"), "Scores X @ w accumulated in float64 in feature order.");
}
