#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "checks.hpp"
#include "search_object.hpp"
#include "simcore/search/session.hpp"

namespace py = pybind11;
using simcore_py::expect;
using simcore_py::SessionBatchObject;
using simcore_py::with_lock;

namespace {

simcore::World make_world(const py::handle& fo, const py::handle& po, const py::handle& co,
                          const py::handle& so) {
  auto f = expect<float>(fo, "features", {-1, -1, -1});
  const py::ssize_t Q = f.shape(0), N = f.shape(1), m = f.shape(2);
  if (Q == 0 || N == 0 || m == 0)
    throw py::value_error("features: needs Q, N, m >= 1, got shape " + simcore_py::shape_str(f));
  if (m > 64) throw py::value_error("features: at most 64 features per item are supported");
  auto p = expect<double>(po, "prices", {Q, N});
  auto cdf = expect<double>(co, "segment_cdf", {-1});
  const py::ssize_t G = cdf.shape(0);
  if (G == 0) throw py::value_error("segment_cdf: needs at least one segment");
  auto sp = expect<double>(so, "segment_pref", {G, m});
  simcore::World w;
  w.n_queries = Q, w.n_items = N, w.n_features = m, w.n_segments = G;
  w.features.assign(f.data(), f.data() + Q * N * m);
  for (float x : w.features)
    if (!(x >= 0.0f && x <= 1.0f)) throw py::value_error("features: values must lie in [0, 1]");
  w.prices.assign(p.data(), p.data() + Q * N);
  for (double x : w.prices)
    if (!(std::isfinite(x) && x > 0)) throw py::value_error("prices: must be finite and > 0");
  w.segment_cdf.assign(cdf.data(), cdf.data() + G);
  w.segment_pref.assign(sp.data(), sp.data() + G * m);
  for (double x : w.segment_pref)
    if (!std::isfinite(x)) throw py::value_error("segment_pref: contains NaN or inf");
  return w;
}

void check_actions(const py::array_t<float>& a) {
  const float* p = a.data();
  for (py::ssize_t i = 0; i < a.size(); ++i)
    if (!std::isfinite(p[i])) throw py::value_error("actions: contain NaN or inf");
}

}  // namespace

void register_search(py::module_& m) {
  py::class_<simcore::UserModel>(m, "UserModel")
      .def(py::init<>())
      .def_readwrite("window", &simcore::UserModel::window)
      .def_readwrite("recency", &simcore::UserModel::recency)
      .def_readwrite("pref_noise", &simcore::UserModel::pref_noise)
      .def_readwrite("patience_noise", &simcore::UserModel::patience_noise)
      .def_readwrite("price_fit", &simcore::UserModel::price_fit)
      .def_readwrite("anchor", &simcore::UserModel::anchor)
      .def_readwrite("price_aversion", &simcore::UserModel::price_aversion)
      .def_readwrite("buy_bias", &simcore::UserModel::buy_bias)
      .def_readwrite("buy_scale", &simcore::UserModel::buy_scale)
      .def_readwrite("saturation", &simcore::UserModel::saturation)
      .def_readwrite("leave_bias", &simcore::UserModel::leave_bias)
      .def_readwrite("leave_frustration", &simcore::UserModel::leave_frustration)
      .def_readwrite("leave_fatigue", &simcore::UserModel::leave_fatigue)
      .def_readwrite("click_bias", &simcore::UserModel::click_bias)
      .def_readwrite("click_intent", &simcore::UserModel::click_intent)
      .def_readwrite("click_retention", &simcore::UserModel::click_retention)
      .def_readwrite("price_feature", &simcore::UserModel::price_feature);

  py::class_<SessionBatchObject> cls(m, "SessionBatch");
  cls.def(py::init([](const py::handle& features, const py::handle& prices,
                      const py::handle& segment_cdf, const py::handle& segment_pref,
                      const simcore::UserModel& model, std::size_t page_size,
                      std::size_t max_steps, int reward_mode, std::size_t num_sessions) {
            if (page_size == 0 || page_size > 128)
              throw py::value_error("page_size: must lie in [1, 128]");
            if (max_steps == 0) throw py::value_error("max_steps: must be >= 1");
            if (num_sessions == 0) throw py::value_error("num_sessions: must be >= 1");
            if (model.window == 0 || model.window > simcore::kMaxWindow)
              throw py::value_error("window: must lie in [1, " +
                                    std::to_string(simcore::kMaxWindow) + "], got " +
                                    std::to_string(model.window));
            if (reward_mode != 0 && reward_mode != 1)
              throw py::value_error("reward_mode: must be 0 (gmv) or 1 (clicks)");
            simcore::World w = make_world(features, prices, segment_cdf, segment_pref);
            if (model.price_feature >= w.n_features)
              throw py::value_error("price_feature: must be < number of features");
            simcore::SessionConfig cfg;
            cfg.page_size = page_size;
            cfg.max_steps = max_steps;
            cfg.reward_mode = reward_mode;
            return new SessionBatchObject(
                simcore::SessionBatch(std::move(w), model, cfg, num_sessions));
          }),
          py::arg("features"), py::arg("prices"), py::arg("segment_cdf"),
          py::arg("segment_pref"), py::arg("model"), py::arg("page_size"), py::arg("max_steps"),
          py::arg("reward_mode"), py::arg("num_sessions"));
  // Sizes are fixed at construction: read without the lock.
  cls.def_property_readonly("num_sessions",
                            [](const SessionBatchObject& o) { return o.sim.num_sessions(); });
  cls.def_property_readonly("obs_dim", [](const SessionBatchObject& o) { return o.sim.obs_dim(); });
  cls.def_property_readonly("horizon", [](const SessionBatchObject& o) { return o.sim.horizon(); });
  cls.def(
      "seed",
      [](SessionBatchObject& o, std::uint64_t seed) { with_lock(o, [&] { o.sim.seed(seed); }); },
      py::arg("seed"));
  cls.def(
      "seed_slots",
      [](SessionBatchObject& o, const py::handle& seeds) {
        auto a = expect<std::uint64_t>(seeds, "seeds", {py::ssize_t(o.sim.num_sessions())});
        const std::uint64_t* p = a.data();
        with_lock(o, [&] { o.sim.seed_slots(p); });
      },
      py::arg("seeds"));
  cls.def(
      "reset",
      [](SessionBatchObject& o, const py::handle& obs, int threads) {
        const auto& self = o.sim;
        auto ob = expect<float>(
            obs, "obs", {py::ssize_t(self.num_sessions()), py::ssize_t(self.obs_dim())}, true);
        float* op = ob.mutable_data();
        with_lock(o, [&] { o.sim.reset(op, simcore::Exec(threads, &o.pool)); });
      },
      py::arg("obs"), py::arg("threads") = 0);
  cls.def(
      "reset_to",
      [](SessionBatchObject& o, const py::handle& q, const py::handle& g, const py::handle& pw,
         const py::handle& pt, const py::handle& pr, const py::handle& obs, int threads) {
        const auto& self = o.sim;
        const py::ssize_t B = self.num_sessions(), m = self.world().n_features;
        auto qa = expect<std::int64_t>(q, "query", {B});
        auto ga = expect<std::int32_t>(g, "segment", {B});
        auto pwa = expect<double>(pw, "power", {B});
        auto pta = expect<double>(pt, "patience", {B});
        auto pra = expect<double>(pr, "prefs", {B, m});
        auto ob = expect<float>(obs, "obs", {B, py::ssize_t(self.obs_dim())}, true);
        for (py::ssize_t i = 0; i < B; ++i) {
          if (qa.data()[i] < 0 || qa.data()[i] >= py::ssize_t(self.world().n_queries))
            throw py::value_error("query: ids must lie in [0, n_queries)");
          if (ga.data()[i] < 0 || ga.data()[i] >= py::ssize_t(self.world().n_segments))
            throw py::value_error("segment: ids must lie in [0, n_segments)");
          if (!(pwa.data()[i] >= 0 && pwa.data()[i] <= 1))
            throw py::value_error("power: must lie in [0, 1]");
          if (!std::isfinite(pta.data()[i])) throw py::value_error("patience: must be finite");
        }
        for (py::ssize_t i = 0; i < B * m; ++i)
          if (!std::isfinite(pra.data()[i])) throw py::value_error("prefs: must be finite");
        float* op = ob.mutable_data();
        with_lock(o, [&] {
          o.sim.reset_to(qa.data(), ga.data(), pwa.data(), pta.data(), pra.data(), op, simcore::Exec(threads, &o.pool));
        });
      },
      py::arg("query"), py::arg("segment"), py::arg("power"), py::arg("patience"),
      py::arg("prefs"), py::arg("obs"), py::arg("threads") = 0);
  cls.def(
      "step",
      [](SessionBatchObject& o, const py::handle& actions, const py::dict& out, bool sample,
         int threads) {
        const auto& self = o.sim;
        const py::ssize_t B = self.num_sessions(), m = self.world().n_features;
        const py::ssize_t K = self.config().page_size, D = self.obs_dim();
        auto a = expect<float>(actions, "actions", {B, m});
        check_actions(a);
        auto get = [&out](const char* key) -> py::handle {
          if (!out.contains(key))
            throw py::value_error(std::string("out: missing buffer '") + key + "'");
          return out[key];
        };
        auto obs = expect<float>(get("obs"), "obs", {B, D}, true);
        auto rew = expect<double>(get("reward"), "reward", {B}, true);
        auto term = expect<bool>(get("terminated"), "terminated", {B}, true);
        auto trunc = expect<bool>(get("truncated"), "truncated", {B}, true);
        auto oc = expect<std::int8_t>(get("outcome"), "outcome", {B}, true);
        auto item = expect<std::int64_t>(get("item"), "item", {B}, true);
        auto price = expect<double>(get("price"), "price", {B}, true);
        auto page = expect<std::int64_t>(get("page"), "page", {B, K}, true);
        auto clk = expect<bool>(get("clicks"), "clicks", {B, K}, true);
        auto b = expect<double>(get("b"), "b", {B}, true);
        auto l = expect<double>(get("l"), "l", {B}, true);
        auto c = expect<double>(get("c"), "c", {B}, true);
        auto mm = expect<double>(get("m"), "m", {B}, true);
        auto ec = expect<double>(get("expected_clicks"), "expected_clicks", {B}, true);
        simcore::StepOut so{obs.mutable_data(),
                            rew.mutable_data(),
                            reinterpret_cast<std::uint8_t*>(term.mutable_data()),
                            reinterpret_cast<std::uint8_t*>(trunc.mutable_data()),
                            oc.mutable_data(),
                            item.mutable_data(),
                            price.mutable_data(),
                            page.mutable_data(),
                            reinterpret_cast<std::uint8_t*>(clk.mutable_data()),
                            b.mutable_data(),
                            l.mutable_data(),
                            c.mutable_data(),
                            mm.mutable_data(),
                            ec.mutable_data()};
        const float* ap = a.data();
        with_lock(o, [&] { o.sim.step(ap, sample, so, simcore::Exec(threads, &o.pool)); });
      },
      py::arg("actions"), py::arg("out"), py::arg("sample") = true, py::arg("threads") = 0);
  cls.def(
      "peek",
      [](const SessionBatchObject& o, const py::handle& actions, const py::dict& out,
         int threads) {
        const auto& self = o.sim;
        const py::ssize_t B = self.num_sessions(), m = self.world().n_features;
        const py::ssize_t K = self.config().page_size;
        auto a = expect<float>(actions, "actions", {B, m});
        check_actions(a);
        auto get = [&out](const char* key) -> py::handle {
          if (!out.contains(key))
            throw py::value_error(std::string("out: missing buffer '") + key + "'");
          return out[key];
        };
        auto page = expect<std::int64_t>(get("page"), "page", {B, K}, true);
        auto b = expect<double>(get("b"), "b", {B}, true);
        auto l = expect<double>(get("l"), "l", {B}, true);
        auto c = expect<double>(get("c"), "c", {B}, true);
        auto mm = expect<double>(get("m"), "m", {B}, true);
        auto ec = expect<double>(get("expected_clicks"), "expected_clicks", {B}, true);
        simcore::PeekOut po{page.mutable_data(), b.mutable_data(), l.mutable_data(),
                            c.mutable_data(),    mm.mutable_data(), ec.mutable_data()};
        const float* ap = a.data();
        with_lock(o, [&] { o.sim.peek(ap, po, simcore::Exec(threads, &o.pool)); });
      },
      py::arg("actions"), py::arg("out"), py::arg("threads") = 0);
  cls.def("users", [](const SessionBatchObject& o) {
    const auto users = with_lock(o, [&] { return o.sim.users(); });
    const py::ssize_t B = users.size(), m = o.sim.world().n_features;
    py::array_t<std::int64_t> q(B);
    py::array_t<std::int32_t> g(B);
    py::array_t<double> pw(B), pt(B), pr({B, m});
    for (py::ssize_t i = 0; i < B; ++i) {
      q.mutable_data()[i] = users[i].query;
      g.mutable_data()[i] = users[i].segment;
      pw.mutable_data()[i] = users[i].power;
      pt.mutable_data()[i] = users[i].patience;
      for (py::ssize_t j = 0; j < m; ++j) pr.mutable_data()[i * m + j] = users[i].pref[j];
    }
    py::dict d;
    d["query"] = q, d["segment"] = g, d["power"] = pw, d["patience"] = pt, d["prefs"] = pr;
    return d;
  });
  cls.def("steps_taken", [](const SessionBatchObject& o) {
    const auto t = with_lock(o, [&] { return o.sim.steps_taken(); });
    py::array_t<std::int64_t> out(static_cast<py::ssize_t>(t.size()));
    for (std::size_t i = 0; i < t.size(); ++i) out.mutable_data()[i] = std::int64_t(t[i]);
    return out;
  });
  simcore_py::register_search_state(cls);
}
