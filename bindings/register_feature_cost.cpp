// Bindings of the feature-subset evaluation kernel (cpp/simcore/ranking/feature_cost.hpp).
// Every argument is validated here; the C++ core then assumes valid input.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "checks.hpp"
#include "simcore/ranking/feature_cost.hpp"

namespace py = pybind11;
using simcore_py::expect;

namespace {

template <class T>
void check_finite(const T* v, std::size_t n, const std::string& name) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) throw py::value_error(name + ": contains NaN or inf");
}

struct Layers {
  std::vector<py::array_t<float>> keep;
  std::vector<simcore::DenseLayer> layers;
};

Layers parse_layers(const py::handle& obj, py::ssize_t n) {
  if (!py::isinstance<py::sequence>(obj))
    throw py::type_error("layers: expected a sequence of (W, b) pairs");
  py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
  if (py::len(seq) == 0) throw py::value_error("layers: needs at least one (W, b) pair");
  Layers out;
  py::ssize_t in = n;
  for (std::size_t l = 0; l < py::len(seq); ++l) {
    const std::string tag = "layers[" + std::to_string(l) + "]";
    py::handle item = seq[l];
    if (!py::isinstance<py::sequence>(item) || py::len(item) != 2)
      throw py::type_error(tag + ": expected a (W, b) pair");
    py::sequence pair = py::reinterpret_borrow<py::sequence>(item);
    auto W = expect<float>(pair[0], (tag + ".W").c_str(), {in, -1});
    const py::ssize_t o = W.shape(1);
    if (o == 0) throw py::value_error(tag + ".W: needs at least one output unit");
    auto b = expect<float>(pair[1], (tag + ".b").c_str(), {o});
    check_finite(W.data(), static_cast<std::size_t>(W.size()), tag + ".W");
    check_finite(b.data(), static_cast<std::size_t>(b.size()), tag + ".b");
    out.keep.push_back(W);
    out.keep.push_back(b);
    out.layers.push_back({W.data(), b.data(), static_cast<std::size_t>(in),
                          static_cast<std::size_t>(o)});
    in = o;
  }
  if (in != 1)
    throw py::value_error("layers: the last layer must have one output unit, got " +
                          std::to_string(in));
  return out;
}

py::tuple subset_eval_py(const py::handle& Xo, const py::handle& wo, const py::handle& layerso,
                         const py::handle& masko, const py::handle& rowso, const py::handle& fillo,
                         const py::handle& costo, py::ssize_t top_k, int threads,
                         bool return_scores, bool return_full, bool simd,
                         double kl_temperature) {
  auto X = expect<float>(Xo, "X", {-1, -1, -1});
  const py::ssize_t Q = X.shape(0), N = X.shape(1), n = X.shape(2);
  if (Q == 0) throw py::value_error("X: needs at least one query (Q = 0)");
  if (N == 0) throw py::value_error("X: needs at least one item per query (N = 0)");
  if (n == 0) throw py::value_error("X: needs at least one feature (n = 0)");

  simcore::SubsetEvalArgs A;
  A.X = X.data();
  A.Q = static_cast<std::size_t>(Q);
  A.N = static_cast<std::size_t>(N);
  A.n = static_cast<std::size_t>(n);

  py::array_t<float> w;
  Layers layers;
  if (wo.is_none() == layerso.is_none())
    throw py::value_error("ranker: give exactly one of w (linear) or layers (MLP)");
  if (!wo.is_none()) {
    w = expect<float>(wo, "w", {n});
    check_finite(w.data(), static_cast<std::size_t>(n), "w");
    A.ranker.w = w.data();
  } else {
    layers = parse_layers(layerso, n);
    A.ranker.layers = layers.layers.data();
    A.ranker.n_layers = layers.layers.size();
  }

  auto mask = expect<bool>(masko, "mask", {-1, n});
  const py::ssize_t R = mask.shape(0);
  if (R == 0) throw py::value_error("mask: needs at least one row (empty query set)");
  A.mask = reinterpret_cast<const std::uint8_t*>(mask.data());
  A.R = static_cast<std::size_t>(R);

  py::array_t<std::int64_t> rows;
  if (!rowso.is_none()) {
    rows = expect<std::int64_t>(rowso, "query_index", {R});
    for (py::ssize_t r = 0; r < R; ++r)
      if (rows.data()[r] < 0 || rows.data()[r] >= Q)
        throw py::value_error("query_index: entries must lie in [0, " + std::to_string(Q) +
                              "), got " + std::to_string(rows.data()[r]));
    A.row_query = rows.data();
  } else if (R != Q) {
    throw py::value_error("mask: has " + std::to_string(R) + " rows but X has " +
                          std::to_string(Q) + " queries (pass query_index to map rows)");
  }

  py::array_t<float> fill;
  if (!fillo.is_none()) {
    fill = expect<float>(fillo, "fill", {n});
    check_finite(fill.data(), static_cast<std::size_t>(n), "fill");
  } else {
    fill = py::array_t<float>(n);
    float* fp = fill.mutable_data();
    py::gil_scoped_release release;
    simcore::feature_mean(X.data(), A.Q, A.N, A.n, fp, threads);
  }
  A.fill = fill.data();

  auto cost = expect<double>(costo, "cost_total", {-1, n});
  const py::ssize_t cr = cost.shape(0);
  if (cr != 1 && cr != Q)
    throw py::value_error("cost_total: must have 1 or Q = " + std::to_string(Q) + " rows, got " +
                          std::to_string(cr));
  for (py::ssize_t i = 0; i < cost.size(); ++i) {
    const double c = cost.data()[i];
    if (!std::isfinite(c)) throw py::value_error("cost: contains NaN or inf");
    if (c < 0) throw py::value_error("cost: must be non-negative");
  }
  A.cost_total = cost.data();
  A.cost_rows = static_cast<std::size_t>(cr);

  if (top_k < 0) throw py::value_error("top_k: must be positive (or 0 for all pairs)");
  A.top_k = static_cast<std::size_t>(top_k);
  A.simd = simd;
  if (!(kl_temperature >= 0) || !std::isfinite(kl_temperature))
    throw py::value_error("kl_temperature: must be a finite number > 0 (or 0 for no KL loss)");
  A.kl_temperature = kl_temperature;

  py::array_t<std::int64_t> loss(R);
  py::array_t<double> total_cost(R);
  py::object scores = py::none(), full = py::none(), kl = py::none();
  simcore::SubsetEvalOut O;
  O.loss = loss.mutable_data();
  O.cost = total_cost.mutable_data();
  if (kl_temperature > 0) {
    py::array_t<double> k(R);
    O.kl = k.mutable_data();
    kl = k;
  }
  if (return_scores) {
    py::array_t<double> s({R, N});
    O.scores = s.mutable_data();
    scores = s;
  }
  if (return_full) {
    py::array_t<double> s({R, N});
    O.full_scores = s.mutable_data();
    full = s;
  }
  std::vector<std::uint8_t> finite(static_cast<std::size_t>(R));
  O.finite = finite.data();
  {
    py::gil_scoped_release release;
    simcore::subset_eval(A, O, threads);
  }
  for (py::ssize_t r = 0; r < R; ++r)
    if (!finite[static_cast<std::size_t>(r)]) {
      const std::int64_t q = A.row_query ? A.row_query[r] : r;
      throw py::value_error("X: contains NaN or inf (or the scores overflow) in query " +
                            std::to_string(q));
    }
  if (O.kl)
    for (py::ssize_t r = 0; r < R; ++r)
      if (!std::isfinite(O.kl[r]))
        throw py::value_error("kl_temperature: " + std::to_string(kl_temperature) +
                              " is too small for the score scale: scores / T overflow and the "
                              "KL loss is not finite (row " + std::to_string(r) + ")");
  return py::make_tuple(loss, total_cost, scores, full, fill, kl);
}

}  // namespace

void register_feature_cost(py::module_& m) {
  m.def("subset_eval", &subset_eval_py, py::arg("X"), py::arg("w"), py::arg("layers"),
        py::arg("mask"), py::arg("query_index"), py::arg("fill"), py::arg("cost_total"),
        py::arg("top_k"), py::arg("threads"), py::arg("return_scores"), py::arg("return_full"),
        py::arg("simd") = true, py::arg("kl_temperature") = 0.0,
        "Feature-subset evaluation (see simcore.feature_cost.kernels.subset_eval). "
        "Returns (loss int64 (R,), cost float64 (R,), scores (R, N) or None, full scores "
        "(R, N) or None, fill float32 (n,), KL loss float64 (R,) or None).");
  m.def(
      "feature_mean",
      [](const py::handle& Xo, int threads) {
        auto X = expect<float>(Xo, "X", {-1, -1, -1});
        if (X.shape(0) == 0 || X.shape(1) == 0 || X.shape(2) == 0)
          throw py::value_error("X: needs Q, N, n >= 1, got shape " + simcore_py::shape_str(X));
        py::array_t<float> out(X.shape(2));
        float* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          simcore::feature_mean(X.data(), X.shape(0), X.shape(1), X.shape(2), o, threads);
        }
        return out;
      },
      py::arg("X"), py::arg("threads") = 0,
      "Per-feature mean of X float32 (Q, N, n) over all Q*N candidates (float32 (n,)).");
  m.def(
      "pair_count",
      [](py::ssize_t N, py::ssize_t top_k) {
        if (N < 0) throw py::value_error("N: must be >= 0");
        if (top_k < 0) throw py::value_error("top_k: must be >= 0");
        const std::int64_t c =
            simcore::pair_count(static_cast<std::size_t>(N), static_cast<std::size_t>(top_k));
        if (c < 0) {
          PyErr_SetString(PyExc_OverflowError,
                          ("N: the pair count for N = " + std::to_string(N) +
                           " does not fit in int64 (N must be < 2^32 or so)").c_str());
          throw py::error_already_set();
        }
        return c;
      },
      py::arg("N"), py::arg("top_k") = 0, "Number of pairs the (top-k) pairwise loss counts over.");
}
