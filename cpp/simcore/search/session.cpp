#include "simcore/search/session.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "simcore/common/worker_pool.hpp"
#include "simcore/ranking/topk.hpp"

namespace simcore {
namespace {

// Sessions per thread before splitting pays off.  With the per-call threads of the
// past (~100 us to start them on a 2-vCPU VM) one thread won below B = 256; the binding's
// WorkerPool keeps its workers, and on 2026-12-05 (AMD EPYC 2-vCPU, bench/test_simulator_steps.py)
// B = 64 went from 0.91M to 1.40-1.61M session-steps/s with this chunk (was 128), B = 1024 unchanged.
constexpr std::size_t kMinChunk = 16;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

SessionBatch::SessionBatch(World world, UserModel model, SessionConfig config,
                           std::size_t num_sessions)
    : world_(std::move(world)), model_(model), config_(config) {
  const std::size_t K = config_.page_size;
  const std::size_t pages = (world_.n_items + K - 1) / K;
  horizon_ = std::min(pages, config_.max_steps);
  position_weight_.resize(K);
  for (std::size_t k = 0; k < K; ++k) position_weight_[k] = 1.0 / std::log2(double(k) + 2.0);
  {
    const std::size_t Q = world_.n_queries, N = world_.n_items, m = world_.n_features;
    columns_.resize(Q * m * N);
    for (std::size_t q = 0; q < Q; ++q)
      for (std::size_t i = 0; i < N; ++i)
        for (std::size_t j = 0; j < m; ++j)
          columns_[(q * m + j) * N + i] = world_.features[(q * N + i) * m + j];
    absmax_.resize(Q * m);
    for (std::size_t q = 0; q < Q; ++q) {
      const std::vector<float> mx = column_absmax({columns_.data() + q * m * N, N, m});
      std::copy(mx.begin(), mx.end(), absmax_.begin() + static_cast<std::ptrdiff_t>(q * m));
    }
    anchor_price_.resize(2 * Q * N);
    for (std::size_t i = 0; i < Q * N; ++i) {
      anchor_price_[2 * i] = std::exp(-(model_.anchor + model_.price_aversion) *
                                      double(world_.features[i * m + model_.price_feature]));
      anchor_price_[2 * i + 1] = world_.prices[i];
    }
  }
  sessions_.resize(num_sessions);
  const std::size_t W = model_.window, m = world_.n_features;
  for (auto& s : sessions_) {
    s.user.pref.assign(m, 0.0);
    s.shown.assign(world_.n_items, 0);
    s.memo.assign(W, PageMemo{});
    s.items.assign(W * K, -1);
    s.item_weight.assign(W * K, 0.0);
    s.feat_mean.assign(W * m, 0.0);
    s.click_feat.assign(W * m, 0.0);
    s.n_clicks.assign(W, 0);
  }
  seed(0);
}

std::size_t SessionBatch::obs_dim() const {
  const std::size_t m = world_.n_features;
  return model_.window * m + m + 1 + world_.n_segments + 1;
}

void SessionBatch::begin_episode(std::size_t slot, const UserProfile* given) {
  Session& s = sessions_[slot];
  s.rng.state = stream_key(s.key_seed, s.key_stream, s.episode);
  ++s.episode;
  const std::size_t m = world_.n_features;
  if (given) {
    s.user = *given;
  } else {
    // Draw order (mirrored by the reference): query, segment, power (median of three
    // uniforms = Beta(2, 2)), m preference normals, patience normal.
    s.user.query = static_cast<std::int64_t>(s.rng.uniform() * double(world_.n_queries));
    if (s.user.query >= static_cast<std::int64_t>(world_.n_queries))
      s.user.query = static_cast<std::int64_t>(world_.n_queries) - 1;
    const double u = s.rng.uniform();
    int g = 0;
    while (g + 1 < static_cast<int>(world_.n_segments) && u >= world_.segment_cdf[g]) ++g;
    s.user.segment = g;
    double p0 = s.rng.uniform(), p1 = s.rng.uniform(), p2 = s.rng.uniform();
    s.user.power = std::max(std::min(p0, p1), std::min(std::max(p0, p1), p2));
    s.user.pref.resize(m);
    for (std::size_t j = 0; j < m; ++j)
      s.user.pref[j] = world_.segment_pref[g * m + j] + model_.pref_noise * s.rng.normal();
    s.user.patience = model_.patience_noise * s.rng.normal();
  }
  std::fill(s.shown.begin(), s.shown.end(), 0);
  s.t = 0;
  s.n_pages = 0;
  s.head = 0;
  s.needs_reset = false;
}

void SessionBatch::write_obs(const Session& s, float* obs) const {
  const std::size_t W = model_.window, m = world_.n_features;
  std::size_t o = 0;
  for (std::size_t age = 0; age < W; ++age) {
    if (age < s.n_pages) {
      const std::size_t slot = (s.head + W - age) % W;
      for (std::size_t j = 0; j < m; ++j) obs[o++] = static_cast<float>(s.feat_mean[slot * m + j]);
    } else {
      for (std::size_t j = 0; j < m; ++j) obs[o++] = 0.0f;
    }
  }
  double clicks = 0;
  for (std::size_t age = 0; age < s.n_pages; ++age) clicks += s.n_clicks[(s.head + W - age) % W];
  for (std::size_t j = 0; j < m; ++j) {
    double acc = 0;
    if (clicks > 0) {
      for (std::size_t age = 0; age < s.n_pages; ++age)
        acc += s.click_feat[((s.head + W - age) % W) * m + j];
      acc /= clicks;
    }
    obs[o++] = static_cast<float>(acc);
  }
  obs[o++] = static_cast<float>(s.user.power);
  for (std::size_t g = 0; g < world_.n_segments; ++g)
    obs[o++] = static_cast<int>(g) == s.user.segment ? 1.0f : 0.0f;
  obs[o++] = static_cast<float>(std::min(1.0, double(s.t) / double(horizon_)));
}

std::size_t SessionBatch::rank_page(const Session& s, const float* w, std::int64_t* page) const {
  const std::size_t N = world_.n_items, m = world_.n_features, K = config_.page_size;
  const std::size_t q = static_cast<std::size_t>(s.user.query);
  const ItemColumns X{columns_.data() + q * N * m, N, m, absmax_.data() + q * m};
  const TopKResult r = topk_columns(X, w, K, s.shown.data(), page);
  for (std::size_t i = r.count; i < K; ++i) page[i] = -1;
  return r.count;
}

void SessionBatch::gather_page(const Session& s, const std::int64_t* items, std::size_t count,
                               float* px, const std::uint8_t* flag_bits, std::size_t flag_cols) const {
  const std::size_t N = world_.n_items, m = world_.n_features;
  const std::size_t mc = flag_bits ? m - flag_cols : m;  // columns read from the catalogue
  const std::size_t q = static_cast<std::size_t>(s.user.query);
  // Ranking has just streamed this query's columns through the cache, while the
  // row-major copy and the per-item arrays are cold: read the features from the columns
  // and start the (anchor, price) loads of the whole page at once.
  const float* cols = columns_.data() + q * m * N;
  const double* ap = anchor_price_.data() + 2 * q * N;
  for (std::size_t k = 0; k < count; ++k) __builtin_prefetch(ap + 2 * static_cast<std::size_t>(items[k]));
  for (std::size_t k = 0; k < count; ++k) {
    const auto i = static_cast<std::size_t>(items[k]);
    for (std::size_t j = 0; j < mc; ++j) px[k * m + j] = cols[j * N + i];
    const unsigned bits = flag_bits ? flag_bits[i] : 0u;  // branch-free: the bits are random
    for (std::size_t j = mc; j < m; ++j) px[k * m + j] = static_cast<float>((bits >> (j - mc)) & 1u);
  }
}

void SessionBatch::describe_page(const Session& s, const std::int64_t* items, const float* px,
                                 std::size_t count, PageMemo& memo, double* weight,
                                 double* click_prob) const {
  const std::size_t N = world_.n_items, m = world_.n_features;
  const std::size_t q = static_cast<std::size_t>(s.user.query);
  const double* ap = anchor_price_.data() + 2 * q * N;
  const double kappa = model_.price_fit;
  const double c0 = std::exp(model_.click_bias);
  memo = PageMemo{};
  memo.count = count;
  double sum_vea = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const float* x = px + k * m;
    const std::size_t i = static_cast<std::size_t>(items[k]);
    double a = 0;
    for (std::size_t j = 0; j < m; ++j) a += s.user.pref[j] * (double(x[j]) - 0.5);
    const double x0 = x[model_.price_feature];
    const double gap = x0 - s.user.power;
    a -= kappa * gap * gap;
    const double v = position_weight_[k];
    const double ea = std::exp(a);
    const double e = ea * ap[2 * i];
    weight[k] = v * e;
    memo.sum_ve += v * e;
    memo.sum_vep += v * e * ap[2 * i + 1];
    memo.sum_vx0 += v * x0;
    memo.sum_v += v;
    sum_vea += v * ea;
    const double z = c0 * v * ea;
    click_prob[k] = z / (1.0 + z);
    memo.exp_clicks += click_prob[k];
  }
  const double S = count > 0 ? std::log(sum_vea / memo.sum_v) : 0.0;
  memo.frustration = sigmoid(-S);
}

SessionBatch::Outcome SessionBatch::evaluate(const Session& s, const PageMemo& fresh) const {
  const std::size_t W = model_.window;
  const double delta = model_.recency;
  double P = fresh.sum_ve, M = fresh.sum_vep, X0 = fresh.sum_vx0, V = fresh.sum_v;
  double F = fresh.frustration, D = 1.0;
  double E = 0;  // engagement: delta^age-weighted expected clicks of the earlier pages
  double dpow = 1.0;
  const std::size_t older = std::min(s.n_pages, W - 1);
  for (std::size_t age = 1; age <= older; ++age) {
    dpow *= delta;
    const PageMemo& pm = s.memo[(s.head + W - (age - 1)) % W];
    P += dpow * pm.sum_ve;
    M += dpow * pm.sum_vep;
    X0 += dpow * pm.sum_vx0;
    V += dpow * pm.sum_v;
    F += dpow * pm.frustration;
    E += dpow * pm.exp_clicks;
    D += dpow;
  }
  const double ref = X0 / V;                      // reference price level
  // inclusive value of the window; saturation nu = 1 makes it the position-weighted mean
  const double iv = model_.anchor * ref + std::log(P) - model_.saturation * std::log(V);
  const double ub = model_.buy_bias + model_.buy_scale * iv + model_.click_intent * E;
  const double ul = model_.leave_bias + model_.leave_frustration * (F / D) +
                    model_.leave_fatigue * double(s.t) + s.user.patience -
                    model_.click_retention * E;
  // Three-way logit with continue as the zero-utility option, computed stably.
  const double top = std::max(0.0, std::max(ub, ul));
  const double eb = std::exp(ub - top), el = std::exp(ul - top), ec = std::exp(-top);
  const double z = eb + el + ec;
  return {eb / z, el / z, ec / z, M / P};
}

void SessionBatch::prefetch_session(const Session& s) const {
  // A step touches the session's shown-mask (read first, by ranking) and its small state
  // vectors; with B sessions these no longer fit in L2, so start their loads one session
  // ahead.
  const std::uint8_t* shown = s.shown.data();
  for (std::size_t o = 0; o < s.shown.size(); o += 64) __builtin_prefetch(shown + o);
  auto lines = [](const void* p, std::size_t bytes) {
    const char* c = static_cast<const char*>(p);
    for (std::size_t o = 0; o < bytes; o += 64) __builtin_prefetch(c + o);
  };
  lines(s.user.pref.data(), s.user.pref.size() * sizeof(double));
  lines(s.memo.data(), s.memo.size() * sizeof(PageMemo));
  lines(s.feat_mean.data(), s.feat_mean.size() * sizeof(double));
  lines(s.click_feat.data(), s.click_feat.size() * sizeof(double));
  lines(s.items.data(), s.items.size() * sizeof(std::int64_t));
  lines(s.item_weight.data(), s.item_weight.size() * sizeof(double));
  lines(s.n_clicks.data(), s.n_clicks.size() * sizeof(std::uint32_t));
}

void SessionBatch::reset(float* obs, const Exec& ex) {
  const std::size_t D = obs_dim();
  parallel_for(ex, sessions_.size(), kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) {
      begin_episode(i, nullptr);
      write_obs(sessions_[i], obs + i * D);
    }
  });
}

void SessionBatch::reset_to(const std::int64_t* query, const std::int32_t* segment,
                            const double* power, const double* patience, const double* prefs,
                            float* obs, const Exec& ex) {
  const std::size_t D = obs_dim(), m = world_.n_features;
  parallel_for(ex, sessions_.size(), kMinChunk, [&](std::size_t b0, std::size_t b1) {
    UserProfile u;
    for (std::size_t i = b0; i < b1; ++i) {
      u.query = query[i];
      u.segment = segment[i];
      u.power = power[i];
      u.patience = patience[i];
      u.pref.assign(prefs + i * m, prefs + (i + 1) * m);
      begin_episode(i, &u);
      write_obs(sessions_[i], obs + i * D);
    }
  });
}

std::int64_t SessionBatch::choose_item(const Session& s, double u_item) const {
  const std::size_t W = model_.window, K = config_.page_size;
  std::int64_t bought = -1;
  // Purchase choice over the remembered pages: weight delta^age * v_k * e_k.
  double total = 0, dpow = 1.0;
  for (std::size_t age = 0; age < s.n_pages; ++age, dpow *= model_.recency)
    total += dpow * s.memo[(s.head + W - age) % W].sum_ve;
  double target = u_item * total, acc = 0;
  dpow = 1.0;
  for (std::size_t age = 0; age < s.n_pages && bought < 0; ++age, dpow *= model_.recency) {
    const std::size_t ps = (s.head + W - age) % W;
    for (std::size_t k = 0; k < s.memo[ps].count; ++k) {
      acc += dpow * s.item_weight[ps * K + k];
      if (target < acc) {
        bought = s.items[ps * K + k];
        break;
      }
    }
  }
  if (bought < 0) {  // rounding at the very top of the range: last positive item
    for (std::size_t age = s.n_pages; age-- > 0 && bought < 0;) {
      const std::size_t ps = (s.head + W - age) % W;
      for (std::size_t k = s.memo[ps].count; k-- > 0;)
        if (s.item_weight[ps * K + k] > 0) { bought = s.items[ps * K + k]; break; }
    }
  }
  return bought;
}

void SessionBatch::step(const float* actions, bool sample, const StepOut& out, const Exec& ex) {
  const std::size_t K = config_.page_size, m = world_.n_features, W = model_.window;
  const std::size_t D = obs_dim();
  parallel_for(ex, sessions_.size(), kMinChunk, [&](std::size_t b0, std::size_t b1) {
    std::vector<double> click_prob(K);
    std::vector<float> px(K * m);
    for (std::size_t i = b0; i < b1; ++i) {
      if (i + 1 < b1) prefetch_session(sessions_[i + 1]);
      Session& s = sessions_[i];
      std::int64_t* page = out.page + i * K;
      std::uint8_t* clicks = out.clicks + i * K;
      if (s.needs_reset) {  // NEXT_STEP autoreset: this step only starts the new episode
        begin_episode(i, nullptr);
        write_obs(s, out.obs + i * D);
        out.reward[i] = 0;
        out.terminated[i] = out.truncated[i] = 0;
        out.outcome[i] = -1;
        out.item[i] = -1;
        out.price[i] = 0;
        out.b[i] = out.l[i] = out.m[i] = out.expected_clicks[i] = 0;
        out.c[i] = 1;
        for (std::size_t k = 0; k < K; ++k) page[k] = -1, clicks[k] = 0;
        continue;
      }
      const std::size_t count = rank_page(s, actions + i * m, page);
      // Memory ring: the new page replaces the oldest one.
      const std::size_t slot = s.n_pages == 0 ? 0 : (s.head + 1) % W;
      PageMemo fresh;
      gather_page(s, page, count, px.data());
      describe_page(s, page, px.data(), count, fresh, s.item_weight.data() + slot * K,
                    click_prob.data());
      const Outcome o = evaluate(s, fresh);
      double* cf = remember_page(s, slot, fresh, page, count, px.data());
      out.b[i] = o.b;
      out.l[i] = o.l;
      out.c[i] = o.c;
      out.m[i] = o.m;
      out.expected_clicks[i] = fresh.exp_clicks;
      PageDraw d;
      if (sample) {
        d = draw_response(s, o, click_prob.data(), count, px.data(), cf, clicks);
        out.reward[i] = d.outcome == 1 ? d.paid : (config_.reward_mode == 1 ? double(d.n_clicks) : 0.0);
      } else {
        for (std::size_t k = 0; k < K; ++k) clicks[k] = 0;
        out.reward[i] = o.b * o.m;
      }
      s.n_clicks[slot] = d.n_clicks;
      out.outcome[i] = d.outcome;
      out.item[i] = d.item;
      out.price[i] = d.paid;
      const bool ended = d.outcome != 0;
      out.terminated[i] = ended ? 1 : 0;
      out.truncated[i] = (!ended && s.t >= horizon_) ? 1 : 0;
      if (out.terminated[i] || out.truncated[i]) s.needs_reset = true;
      write_obs(s, out.obs + i * D);
    }
  });
}

void SessionBatch::peek(const float* actions, const PeekOut& out, const Exec& ex) const {
  const std::size_t K = config_.page_size, m = world_.n_features;
  parallel_for(ex, sessions_.size(), kMinChunk, [&](std::size_t b0, std::size_t b1) {
    std::vector<double> weight(K), click_prob(K);
    std::vector<float> px(K * m);
    for (std::size_t i = b0; i < b1; ++i) {
      const Session& s = sessions_[i];
      std::int64_t* page = out.page + i * K;
      if (s.needs_reset) {
        for (std::size_t k = 0; k < K; ++k) page[k] = -1;
        out.b[i] = out.l[i] = out.m[i] = out.expected_clicks[i] = 0;
        out.c[i] = 1;
        continue;
      }
      const std::size_t count = rank_page(s, actions + i * m, page);
      PageMemo fresh;
      gather_page(s, page, count, px.data());
      describe_page(s, page, px.data(), count, fresh, weight.data(), click_prob.data());
      const Outcome o = evaluate(s, fresh);
      out.b[i] = o.b;
      out.l[i] = o.l;
      out.c[i] = o.c;
      out.m[i] = o.m;
      out.expected_clicks[i] = fresh.exp_clicks;
    }
  });
}

}  // namespace simcore
