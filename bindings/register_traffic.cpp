// _core.traffic: TrafficBatch, the tiered-traffic simulator (cpp/simcore/traffic/).
// Argument checks here name the argument (TypeError for a dtype, ValueError for shapes
// and values); the GIL is released around every loop, under a per-object mutex.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "checks.hpp"
#include "search_object.hpp"
#include "simcore/traffic/traffic.hpp"

namespace py = pybind11;
using simcore_py::expect;

namespace {

struct TrafficObject {
  explicit TrafficObject(simcore::traffic::TrafficBatch s) : sim(std::move(s)) {}
  simcore::traffic::TrafficBatch sim;
  mutable std::mutex mu;              // serialises the calls (the GIL is released inside)
  mutable simcore::WorkerPool pool;   // the loops' workers, used under mu
};

template <class F>
auto locked(const TrafficObject& o, F&& f) -> decltype(f()) {
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(o.mu);
  return f();
}

[[noreturn]] void fail(const std::string& what) { throw py::value_error(what); }

simcore::World tiered_world(const py::handle& fo, const py::handle& po, const py::handle& co,
                            const py::handle& so, std::size_t n_tiers) {
  auto f = expect<float>(fo, "features", {-1, -1, -1});
  const py::ssize_t Q = f.shape(0), N = f.shape(1), F = f.shape(2);
  if (Q == 0 || N == 0) fail("features: needs Q, N >= 1, got shape " + simcore_py::shape_str(f));
  if (F > 64) fail("features: at most 64 columns (base features + tiers) are supported");
  if (n_tiers < 1 || py::ssize_t(n_tiers) >= F)
    fail("n_tiers: must lie in [1, features.shape[2] - 1], got " + std::to_string(n_tiers));
  auto p = expect<double>(po, "prices", {Q, N});
  auto cdf = expect<double>(co, "segment_cdf", {-1});
  const py::ssize_t G = cdf.shape(0);
  if (G == 0) fail("segment_cdf: needs at least one segment");
  auto sp = expect<double>(so, "segment_pref", {G, F});
  simcore::World w;
  w.n_queries = Q, w.n_items = N, w.n_features = F, w.n_segments = G;
  w.features.assign(f.data(), f.data() + Q * N * F);
  const std::size_t mb = std::size_t(F) - n_tiers;
  for (std::size_t i = 0; i < w.features.size(); ++i) {
    const float x = w.features[i];
    if (i % std::size_t(F) >= mb) {
      if (!(x == 0.0f || x == 1.0f)) fail("features: tier flags (the last n_tiers columns) must be 0 or 1");
    } else if (!(x >= 0.0f && x <= 1.0f)) {
      fail("features: values must lie in [0, 1]");
    }
  }
  w.prices.assign(p.data(), p.data() + Q * N);
  for (double x : w.prices)
    if (!(std::isfinite(x) && x > 0)) fail("prices: must be finite and > 0");
  w.segment_cdf.assign(cdf.data(), cdf.data() + G);
  for (py::ssize_t g = 0; g < G; ++g)
    if (!(w.segment_cdf[g] >= 0 && w.segment_cdf[g] <= 1) || (g && w.segment_cdf[g] < w.segment_cdf[g - 1]))
      fail("segment_cdf: must be non-decreasing in [0, 1]");
  w.segment_pref.assign(sp.data(), sp.data() + G * F);
  for (double x : w.segment_pref)
    if (!std::isfinite(x)) fail("segment_pref: contains NaN or inf");
  return w;
}

simcore::traffic::TierModel tier_model(const simcore::World& w, std::size_t n_tiers,
                                       const py::handle& cdf_o, double strength, double noise,
                                       double cart_bias, const py::handle& gmv_o,
                                       const py::handle& lam_o, const py::handle& basic_o) {
  const py::ssize_t G = w.n_segments, mt = n_tiers, F = w.n_features;
  simcore::traffic::TierModel t;
  t.n_tiers = n_tiers;
  auto cdf = expect<double>(cdf_o, "affinity_cdf", {G, mt, 2});
  t.affinity_cdf.assign(cdf.data(), cdf.data() + G * mt * 2);
  for (std::size_t i = 0; i < t.affinity_cdf.size(); i += 2)
    if (!(t.affinity_cdf[i] >= 0 && t.affinity_cdf[i] <= t.affinity_cdf[i + 1] &&
          t.affinity_cdf[i + 1] <= 1))
      fail("affinity_cdf: each (like, like + dislike) pair must satisfy 0 <= like <= like + dislike <= 1");
  if (!std::isfinite(strength)) fail("affinity_strength: must be finite");
  if (!std::isfinite(noise) || noise < 0) fail("affinity_noise: must be finite and >= 0");
  if (!std::isfinite(cart_bias) || std::abs(cart_bias) > 50) fail("cart_bias: must be finite, in [-50, 50]");
  t.strength = strength, t.noise = noise, t.cart_bias = cart_bias;
  auto g = expect<double>(gmv_o, "gmv_weights", {4});
  for (py::ssize_t i = 0; i < 4; ++i)
    if (!std::isfinite(g.data()[i])) fail("gmv_weights: (click, cart, buy, price) must be finite");
  t.w_click = g.data()[0], t.w_cart = g.data()[1], t.w_buy = g.data()[2], t.w_price = g.data()[3];
  auto lam = expect<double>(lam_o, "lambdas", {-1});
  if (lam.shape(0) != mt)
    fail("lambdas: expected one value per tier (" + std::to_string(mt) + "), got " +
         std::to_string(lam.shape(0)));
  t.lambdas.assign(lam.data(), lam.data() + mt);
  for (double x : t.lambdas)
    if (!std::isfinite(x)) fail("lambdas: must be finite");
  auto bw = expect<float>(basic_o, "basic_weights", {F});
  t.basic_weights.assign(bw.data(), bw.data() + F);
  for (float x : t.basic_weights)
    if (!std::isfinite(x)) fail("basic_weights: must be finite");
  return t;
}

template <class T>
py::array_t<T> shaped(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

py::handle get(const py::dict& out, const char* key) {
  if (!out.contains(key)) fail(std::string("out: missing buffer '") + key + "'");
  return out[key];
}

void step(TrafficObject& o, const py::handle& actions, const py::dict& out, bool sample, int threads) {
  const auto& self = o.sim;
  const py::ssize_t B = self.num_sessions(), F = self.world().n_features;
  const py::ssize_t K = self.config().page_size, D = self.obs_dim(), mt = self.tiers().n_tiers;
  auto a = expect<float>(actions, "actions", {B, F});
  for (py::ssize_t i = 0; i < a.size(); ++i)
    if (!std::isfinite(a.data()[i])) fail("actions: contain NaN or inf");
  auto obs = expect<float>(get(out, "obs"), "obs", {B, D}, true);
  auto rew = expect<double>(get(out, "reward"), "reward", {B}, true);
  auto term = expect<bool>(get(out, "terminated"), "terminated", {B}, true);
  auto trunc = expect<bool>(get(out, "truncated"), "truncated", {B}, true);
  auto oc = expect<std::int8_t>(get(out, "outcome"), "outcome", {B}, true);
  auto item = expect<std::int64_t>(get(out, "item"), "item", {B}, true);
  auto price = expect<double>(get(out, "price"), "price", {B}, true);
  auto page = expect<std::int64_t>(get(out, "page"), "page", {B, K}, true);
  auto clk = expect<bool>(get(out, "clicks"), "clicks", {B, K}, true);
  auto crt = expect<bool>(get(out, "carts"), "carts", {B, K}, true);
  auto b = expect<double>(get(out, "b"), "b", {B}, true);
  auto l = expect<double>(get(out, "l"), "l", {B}, true);
  auto c = expect<double>(get(out, "c"), "c", {B}, true);
  auto mm = expect<double>(get(out, "m"), "m", {B}, true);
  auto ec = expect<double>(get(out, "expected_clicks"), "expected_clicks", {B}, true);
  auto ek = expect<double>(get(out, "expected_carts"), "expected_carts", {B}, true);
  auto nc = expect<std::int32_t>(get(out, "n_click"), "n_click", {B}, true);
  auto nk = expect<std::int32_t>(get(out, "n_cart"), "n_cart", {B}, true);
  auto nb = expect<std::int32_t>(get(out, "n_buy"), "n_buy", {B}, true);
  auto sh = expect<double>(get(out, "share"), "share", {B, mt}, true);
  auto sb = expect<double>(get(out, "share_basic"), "share_basic", {B, mt}, true);
  auto rg = expect<double>(get(out, "reward_gmv"), "reward_gmv", {B}, true);
  auto rt = expect<double>(get(out, "reward_tier"), "reward_tier", {B}, true);
  auto u8 = [](py::array_t<bool>& x) { return reinterpret_cast<std::uint8_t*>(x.mutable_data()); };
  simcore::traffic::TrafficOut to{
      simcore::StepOut{obs.mutable_data(), rew.mutable_data(), u8(term), u8(trunc), oc.mutable_data(),
                       item.mutable_data(), price.mutable_data(), page.mutable_data(), u8(clk),
                       b.mutable_data(), l.mutable_data(), c.mutable_data(), mm.mutable_data(),
                       ec.mutable_data()},
      u8(crt), ek.mutable_data(), nc.mutable_data(), nk.mutable_data(), nb.mutable_data(),
      sh.mutable_data(), sb.mutable_data(), rg.mutable_data(), rt.mutable_data()};
  const float* ap = a.data();
  locked(o, [&] { o.sim.step(ap, sample, to, simcore::Exec(threads, &o.pool)); });
}

void reset_to(TrafficObject& o, const py::handle& q, const py::handle& g, const py::handle& pw,
              const py::handle& pt, const py::handle& pr, const py::handle& obs, int threads) {
  const auto& self = o.sim;
  const py::ssize_t B = self.num_sessions(), F = self.world().n_features;
  auto qa = expect<std::int64_t>(q, "query", {B});
  auto ga = expect<std::int32_t>(g, "segment", {B});
  auto pwa = expect<double>(pw, "power", {B});
  auto pta = expect<double>(pt, "patience", {B});
  auto pra = expect<double>(pr, "prefs", {B, F});
  auto ob = expect<float>(obs, "obs", {B, py::ssize_t(self.obs_dim())}, true);
  for (py::ssize_t i = 0; i < B; ++i) {
    if (qa.data()[i] < 0 || qa.data()[i] >= py::ssize_t(self.world().n_queries))
      fail("query: ids must lie in [0, n_queries)");
    if (ga.data()[i] < 0 || ga.data()[i] >= py::ssize_t(self.world().n_segments))
      fail("segment: ids must lie in [0, n_segments)");
    if (!(pwa.data()[i] >= 0 && pwa.data()[i] <= 1)) fail("power: must lie in [0, 1]");
    if (!std::isfinite(pta.data()[i])) fail("patience: must be finite");
  }
  for (py::ssize_t i = 0; i < B * F; ++i)
    if (!std::isfinite(pra.data()[i])) fail("prefs: must be finite");
  float* op = ob.mutable_data();
  locked(o, [&] {
    o.sim.reset_to(qa.data(), ga.data(), pwa.data(), pta.data(), pra.data(), op, simcore::Exec(threads, &o.pool));
  });
}

py::dict users(const TrafficObject& o) {
  const auto us = locked(o, [&] { return o.sim.users(); });
  const py::ssize_t B = us.size(), F = o.sim.world().n_features;
  py::array_t<std::int64_t> q(B);
  py::array_t<std::int32_t> g(B);
  py::array_t<double> pw(B), pt(B), pr({B, F});
  for (py::ssize_t i = 0; i < B; ++i) {
    q.mutable_data()[i] = us[i].query;
    g.mutable_data()[i] = us[i].segment;
    pw.mutable_data()[i] = us[i].power;
    pt.mutable_data()[i] = us[i].patience;
    for (py::ssize_t j = 0; j < F; ++j) pr.mutable_data()[i * F + j] = us[i].pref[j];
  }
  py::dict d;
  d["query"] = q, d["segment"] = g, d["power"] = pw, d["patience"] = pt, d["prefs"] = pr;
  return d;
}

TrafficObject* make(const py::handle& features, const py::handle& prices, const py::handle& segment_cdf,
                    const py::handle& segment_pref, const simcore::UserModel& model, std::size_t page_size,
                    std::size_t max_steps, std::size_t num_sessions, std::size_t n_tiers,
                    const py::handle& affinity_cdf, double strength, double noise, double cart_bias,
                    const py::handle& gmv_weights, const py::handle& lambdas, const py::handle& basic) {
  if (num_sessions == 0) fail("num_sessions: must be >= 1");
  if (page_size == 0 || page_size > 128) fail("page_size: must lie in [1, 128]");
  if (max_steps == 0) fail("max_steps: must be >= 1");
  if (model.window == 0 || model.window > simcore::kMaxWindow)
    fail("window: must lie in [1, " + std::to_string(simcore::kMaxWindow) + "]");
  simcore::World w = tiered_world(features, prices, segment_cdf, segment_pref, n_tiers);
  if (model.price_feature >= w.n_features - n_tiers)
    fail("price_feature: must be a base column (< features.shape[2] - n_tiers)");
  simcore::traffic::TierModel t =
      tier_model(w, n_tiers, affinity_cdf, strength, noise, cart_bias, gmv_weights, lambdas, basic);
  simcore::SessionConfig cfg;
  cfg.page_size = page_size;
  cfg.max_steps = max_steps;
  return new TrafficObject(simcore::traffic::TrafficBatch(std::move(w), model, cfg, std::move(t), num_sessions));
}

}  // namespace

void register_traffic(py::module_& m) {
  py::class_<TrafficObject> cls(m, "TrafficBatch");
  cls.def(py::init(&make), py::arg("features"), py::arg("prices"), py::arg("segment_cdf"),
          py::arg("segment_pref"), py::arg("model"), py::arg("page_size"), py::arg("max_steps"),
          py::arg("num_sessions"), py::arg("n_tiers"), py::arg("affinity_cdf"),
          py::arg("affinity_strength"), py::arg("affinity_noise"), py::arg("cart_bias"),
          py::arg("gmv_weights"), py::arg("lambdas"), py::arg("basic_weights"));
  cls.def_property_readonly("num_sessions", [](const TrafficObject& o) { return o.sim.num_sessions(); });
  cls.def_property_readonly("obs_dim", [](const TrafficObject& o) { return o.sim.obs_dim(); });
  cls.def_property_readonly("horizon", [](const TrafficObject& o) { return o.sim.horizon(); });
  cls.def("seed", [](TrafficObject& o, std::uint64_t s) { locked(o, [&] { o.sim.seed(s); }); }, py::arg("seed"));
  cls.def(
      "seed_slots",
      [](TrafficObject& o, const py::handle& seeds) {
        auto a = expect<std::uint64_t>(seeds, "seeds", {py::ssize_t(o.sim.num_sessions())});
        const std::uint64_t* p = a.data();
        locked(o, [&] { o.sim.seed_slots(p); });
      },
      py::arg("seeds"));
  cls.def(
      "reset",
      [](TrafficObject& o, const py::handle& obs, int threads) {
        auto ob = expect<float>(obs, "obs", {py::ssize_t(o.sim.num_sessions()), py::ssize_t(o.sim.obs_dim())}, true);
        float* op = ob.mutable_data();
        locked(o, [&] { o.sim.reset(op, simcore::Exec(threads, &o.pool)); });
      },
      py::arg("obs"), py::arg("threads") = 0);
  cls.def("reset_to", &reset_to, py::arg("query"), py::arg("segment"), py::arg("power"), py::arg("patience"),
          py::arg("prefs"), py::arg("obs"), py::arg("threads") = 0);
  cls.def("step", &step, py::arg("actions"), py::arg("out"), py::arg("sample") = true, py::arg("threads") = 0);
  cls.def("users", &users);
  cls.def("steps_taken", [](const TrafficObject& o) {
    const auto t = locked(o, [&] { return o.sim.steps_taken(); });
    py::array_t<std::int64_t> a(static_cast<py::ssize_t>(t.size()));
    for (std::size_t i = 0; i < t.size(); ++i) a.mutable_data()[i] = std::int64_t(t[i]);
    return a;
  });
  cls.def("control_pages", [](const TrafficObject& o) {
    const py::ssize_t Q = o.sim.world().n_queries, T = o.sim.horizon(), K = o.sim.config().page_size;
    return shaped(o.sim.control_pages(), {Q, T, K});
  }, "pi_basic's pages: int64 (Q, T, K), -1 padded.");
  cls.def("control_share", [](const TrafficObject& o) {
    const py::ssize_t Q = o.sim.world().n_queries, T = o.sim.horizon(), mt = o.sim.tiers().n_tiers;
    return shaped(o.sim.control_share(), {Q, T, mt});
  }, "Tier shares of pi_basic's pages: float64 (Q, T, m_t).");
  cls.def("get_state", [](const TrafficObject& o) {
    return simcore_py::state_to_dict(locked(o, [&] { return o.sim.get_state(); }));
  }, "The full mutable state as a dict of flat NumPy arrays (as SessionBatch.get_state).");
  cls.def("set_state", [](TrafficObject& o, const py::dict& d) {
    const simcore::SessionState st = simcore_py::state_from_dict(d, o.sim.num_sessions());
    try {
      locked(o, [&] { o.sim.set_state(st); });
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
  }, py::arg("state"), "Restores a get_state() dict (validated; unchanged on error).");
}
