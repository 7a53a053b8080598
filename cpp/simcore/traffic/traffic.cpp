#include "simcore/traffic/traffic.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <utility>

#include "simcore/common/worker_pool.hpp"
#include "simcore/ranking/topk.hpp"

namespace simcore {
namespace traffic {
namespace {

// Sessions per thread before splitting pays off (as for the search step).
constexpr std::size_t kMinChunk = 16;

}  // namespace

TrafficBatch::TrafficBatch(World world, UserModel model, SessionConfig config, TierModel tiers,
                           std::size_t num_sessions)
    : SessionBatch(std::move(world), model, config, num_sessions), tiers_(std::move(tiers)) {
  build_control();
  build_tier_lists();
}

void TrafficBatch::build_tier_lists() {
  const std::size_t Q = world_.n_queries, N = world_.n_items, F = world_.n_features;
  const std::size_t mt = tiers_.n_tiers, mb = F - mt;
  if (mt > kMaxClassTiers) return;
  const std::size_t C = std::size_t(1) << mt;
  base_score_.resize(Q * N);
  class_base_.resize(Q * N);
  class_items_.resize(Q * N);
  class_start_.assign(Q * (C + 1), 0);
  item_class_.resize(Q * N);
  std::vector<double> w(mb);
  for (std::size_t j = 0; j < mb; ++j) w[j] = static_cast<double>(tiers_.basic_weights[j]);
  std::vector<std::size_t> cls(N);
  for (std::size_t q = 0; q < Q; ++q) {
    const float* X = world_.features.data() + q * N * F;
    double* base = base_score_.data() + q * N;
    std::uint32_t* start = class_start_.data() + q * (C + 1);
    for (std::size_t i = 0; i < N; ++i) {
      // the first mb terms of the ranking's score, in its order (score_column_row)
      double acc = static_cast<double>(X[i * F]) * w[0];
      for (std::size_t j = 1; j < mb; ++j) acc += static_cast<double>(X[i * F + j]) * w[j];
      base[i] = acc;
      std::size_t c = 0;
      for (std::size_t j = 0; j < mt; ++j) c |= (X[i * F + mb + j] != 0.0f ? std::size_t(1) : 0) << j;
      cls[i] = c;
      item_class_[q * N + i] = static_cast<std::uint8_t>(c);
      ++start[c + 1];
    }
    for (std::size_t c = 0; c < C; ++c) start[c + 1] += start[c];
    std::int32_t* items = class_items_.data() + q * N;
    std::vector<std::uint32_t> fill(start, start + C);
    for (std::size_t i = 0; i < N; ++i) items[fill[cls[i]]++] = static_cast<std::int32_t>(i);
    for (std::size_t c = 0; c < C; ++c)
      std::sort(items + start[c], items + start[c + 1], [&](std::int32_t a, std::int32_t b) {
        return base[a] > base[b] || (base[a] == base[b] && a < b);
      });
    double* cb = class_base_.data() + q * N;
    for (std::size_t r = 0; r < N; ++r) cb[r] = base[items[r]];
  }
}

std::size_t TrafficBatch::rank_by_class(const Session& s, const float* w, std::int64_t* page) const {
  const std::size_t N = world_.n_items, F = world_.n_features, K = config_.page_size;
  const std::size_t mt = tiers_.n_tiers, mb = F - mt, C = std::size_t(1) << mt;
  const std::size_t q = static_cast<std::size_t>(s.user.query);
  const double* base = class_base_.data() + q * N;  // in class order, parallel to items
  const std::int32_t* items = class_items_.data() + q * N;
  const std::uint32_t* start = class_start_.data() + q * (C + 1);
  const std::uint8_t* shown = s.shown.data();
  double wd[kMaxClassTiers];
  for (std::size_t j = 0; j < mt; ++j) wd[j] = static_cast<double>(w[mb + j]);
  // The full score of the item at position r of class c: its base score, then the tier
  // terms in column order, exactly as the general ranking accumulates them.
  auto score = [&](std::uint32_t r, std::size_t c) {
    double acc = base[r];
    for (std::size_t j = 0; j < mt; ++j) acc += static_cast<double>(((c >> j) & 1) ? 1.0f : 0.0f) * wd[j];
    return acc;
  };
  // Items taken out of class order (rounded ties, below): rare, so a short list.
  std::int32_t early[128];
  std::size_t n_early = 0;
  auto taken = [&](std::int32_t i) {
    if (shown[static_cast<std::size_t>(i)]) return true;
    for (std::size_t k = 0; k < n_early; ++k)
      if (early[k] == i) return true;
    return false;
  };
  constexpr std::size_t kC = std::size_t(1) << kMaxClassTiers;
  std::uint32_t cursor[kC];
  std::int32_t head[kC];
  double head_s[kC];
  // Head of class c: its first untaken item; a later item whose base score rounds to the
  // same full score (a contiguous run: the full score is monotone in the base score)
  // and whose index is lower ranks first.
  auto find_head = [&](std::size_t c) {
    std::uint32_t& p = cursor[c];
    while (p < start[c + 1] && taken(items[p])) ++p;
    if (p == start[c + 1]) {
      head[c] = -1;
      return;
    }
    std::int32_t cand = items[p];
    const double sc = score(p, c);
    for (std::uint32_t r = p + 1; r < start[c + 1] && score(r, c) == sc; ++r)
      if (items[r] < cand && !taken(items[r])) cand = items[r];
    head[c] = cand, head_s[c] = sc;
  };
  for (std::size_t c = 0; c < C; ++c) cursor[c] = start[c], find_head(c);
  std::size_t count = 0;
  for (; count < K; ++count) {
    std::size_t bc = C;
    for (std::size_t c = 0; c < C; ++c)
      if (head[c] >= 0 && (bc == C || head_s[c] > head_s[bc] || (head_s[c] == head_s[bc] && head[c] < head[bc])))
        bc = c;
    if (bc == C) break;
    const std::int32_t best = head[bc];
    page[count] = best;
    if (items[cursor[bc]] == best) {
      ++cursor[bc];
    } else {
      early[n_early++] = best;
    }
    find_head(bc);
  }
  for (std::size_t k = count; k < K; ++k) page[k] = -1;
  return count;
}

std::size_t TrafficBatch::rank_general(const Session& s, const float* w, std::int64_t* page) const {
  const std::size_t mt = tiers_.n_tiers;
  if (item_class_.empty() || mt > kMaxFlagCols) return rank_page(s, w, page);
  const std::size_t N = world_.n_items, F = world_.n_features, K = config_.page_size;
  const std::size_t q = static_cast<std::size_t>(s.user.query);
  const ItemColumns X{columns_.data() + q * N * F, N, F, absmax_.data() + q * F};
  const TopKResult r = topk_columns_flags(X, mt, item_class_.data() + q * N, w, K, s.shown.data(), page);
  for (std::size_t i = r.count; i < K; ++i) page[i] = -1;
  return r.count;
}

void TrafficBatch::build_control() {
  // pi_basic's t-th page is the t-th block of K items of its full ranking (the control
  // bucket shows its own pages 1..t-1 first): score descending, ties by lower index,
  // scores accumulated in float64 in feature order as in the search ranking.
  const std::size_t Q = world_.n_queries, N = world_.n_items, F = world_.n_features;
  const std::size_t K = config_.page_size, T = horizon_, mt = tiers_.n_tiers;
  control_pages_.assign(Q * T * K, -1);
  control_share_.assign(Q * T * mt, 0.0);
  std::vector<double> w(F), score(N);
  for (std::size_t j = 0; j < F; ++j) w[j] = static_cast<double>(tiers_.basic_weights[j]);
  std::vector<std::int64_t> order(N);
  std::vector<float> px(K * F);
  for (std::size_t q = 0; q < Q; ++q) {
    const float* X = world_.features.data() + q * N * F;
    for (std::size_t i = 0; i < N; ++i) {
      double acc = static_cast<double>(X[i * F]) * w[0];
      for (std::size_t j = 1; j < F; ++j) acc += static_cast<double>(X[i * F + j]) * w[j];
      score[i] = acc;
    }
    std::iota(order.begin(), order.end(), 0);
    const std::size_t shown = std::min(N, T * K);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                      [&](std::int64_t a, std::int64_t b) {
                        return score[a] > score[b] || (score[a] == score[b] && a < b);
                      });
    for (std::size_t t = 0; t < T; ++t) {
      const std::size_t lo = t * K, hi = std::min(shown, lo + K);
      std::int64_t* page = control_pages_.data() + (q * T + t) * K;
      for (std::size_t r = lo; r < hi; ++r) {
        page[r - lo] = order[r];
        std::copy(X + order[r] * F, X + (order[r] + 1) * F, px.data() + (r - lo) * F);
      }
      page_shares(px.data(), hi > lo ? hi - lo : 0, control_share_.data() + (q * T + t) * mt);
    }
  }
}

void TrafficBatch::page_shares(const float* px, std::size_t count, double* share) const {
  const std::size_t F = world_.n_features, mt = tiers_.n_tiers, mb = F - mt;
  for (std::size_t j = 0; j < mt; ++j) {
    std::size_t n = 0;
    for (std::size_t k = 0; k < count; ++k) n += px[k * F + mb + j] != 0.0f ? 1 : 0;
    share[j] = count > 0 ? double(n) / double(count) : 0.0;
  }
}

void TrafficBatch::begin_traffic(std::size_t slot) {
  Session& s = sessions_[slot];
  const std::size_t F = world_.n_features, mt = tiers_.n_tiers, mb = F - mt;
  // Draw order (mirrored by the reference): query, segment, power (median of three
  // uniforms), mb preference normals, patience normal, then per tier a class uniform
  // and a strength normal.  The step's draws continue the same stream.
  Stream r;
  r.state = stream_key(s.key_seed, s.key_stream, s.episode);
  UserProfile& u = s.user;
  u.query = static_cast<std::int64_t>(r.uniform() * double(world_.n_queries));
  if (u.query >= static_cast<std::int64_t>(world_.n_queries))
    u.query = static_cast<std::int64_t>(world_.n_queries) - 1;
  const double ug = r.uniform();
  int g = 0;
  while (g + 1 < static_cast<int>(world_.n_segments) && ug >= world_.segment_cdf[g]) ++g;
  u.segment = g;
  const double p0 = r.uniform(), p1 = r.uniform(), p2 = r.uniform();
  u.power = std::max(std::min(p0, p1), std::min(std::max(p0, p1), p2));
  u.pref.resize(F);
  for (std::size_t j = 0; j < mb; ++j)
    u.pref[j] = world_.segment_pref[g * F + j] + model_.pref_noise * r.normal();
  u.patience = model_.patience_noise * r.normal();
  for (std::size_t j = 0; j < mt; ++j) {
    const double uc = r.uniform();
    const double z = r.normal();
    const double* cdf = tiers_.affinity_cdf.data() + (std::size_t(g) * mt + j) * 2;
    // +1 like, -1 dislike, 0 indifferent (computed without branches on the random draw)
    const double sign = static_cast<double>(uc < cdf[0]) - static_cast<double>((uc >= cdf[0]) & (uc < cdf[1]));
    u.pref[mb + j] = sign * (tiers_.strength + tiers_.noise * z);
  }
  begin_episode(slot, &s.user);  // keys the stream, counts the episode, clears the history
  s.rng.state = r.state;         // ... and the step draws continue after the user's
}

void TrafficBatch::reset(float* obs, const Exec& ex) {
  const std::size_t D = obs_dim();
  parallel_for(ex, sessions_.size(), kMinChunk, [&](std::size_t b0, std::size_t b1) {
    for (std::size_t i = b0; i < b1; ++i) {
      begin_traffic(i);
      write_obs(sessions_[i], obs + i * D);
    }
  });
}

void TrafficBatch::step(const float* actions, bool sample, const TrafficOut& out, const Exec& ex) {
  const std::size_t K = config_.page_size, F = world_.n_features, W = model_.window;
  const std::size_t D = obs_dim(), mt = tiers_.n_tiers, T = horizon_, N = world_.n_items;
  const StepOut& o = out.base;
  const double cart0 = std::exp(tiers_.cart_bias);
  parallel_for(ex, sessions_.size(), kMinChunk, [&](std::size_t b0, std::size_t b1) {
    std::vector<double> click_prob(K), cart_prob(K);
    std::vector<float> px(K * F);
    for (std::size_t i = b0; i < b1; ++i) {
      if (i + 1 < b1) prefetch_session(sessions_[i + 1]);
      Session& s = sessions_[i];
      std::int64_t* page = o.page + i * K;
      std::uint8_t* clicks = o.clicks + i * K;
      std::uint8_t* carts = out.carts + i * K;
      double* share = out.share + i * mt;
      double* share_basic = out.share_basic + i * mt;
      if (s.needs_reset) {  // NEXT_STEP autoreset: this step only starts the new episode
        begin_traffic(i);
        write_obs(s, o.obs + i * D);
        o.reward[i] = out.reward_gmv[i] = out.reward_tier[i] = 0;
        o.terminated[i] = o.truncated[i] = 0;
        o.outcome[i] = -1;
        o.item[i] = -1;
        o.price[i] = 0;
        o.b[i] = o.l[i] = o.m[i] = o.expected_clicks[i] = out.expected_carts[i] = 0;
        o.c[i] = 1;
        out.n_click[i] = out.n_cart[i] = out.n_buy[i] = 0;
        for (std::size_t k = 0; k < K; ++k) page[k] = -1, clicks[k] = 0, carts[k] = 0;
        for (std::size_t j = 0; j < mt; ++j) share[j] = share_basic[j] = 0;
        continue;
      }
      const std::size_t q = static_cast<std::size_t>(s.user.query);
      const double* cs = control_share_.data() + (q * T + std::min(s.t, T - 1)) * mt;
      __builtin_prefetch(cs);  // cold by the time the shares are compared, after ranking
      const float* a = actions + i * F;
      const bool by_class = !class_start_.empty() &&
                            std::memcmp(a, tiers_.basic_weights.data(), (F - mt) * sizeof(float)) == 0;
      const std::size_t count = by_class ? rank_by_class(s, a, page) : rank_general(s, a, page);
      const std::size_t slot = s.n_pages == 0 ? 0 : (s.head + 1) % W;
      PageMemo fresh;
      const bool flag_path = !item_class_.empty() && mt <= kMaxFlagCols;
      gather_page(s, page, count, px.data(), flag_path ? item_class_.data() + q * N : nullptr, mt);
      double* weight = s.item_weight.data() + slot * K;
      describe_page(s, page, px.data(), count, fresh, weight, click_prob.data());
      const Outcome oc = evaluate(s, fresh);
      // Cart probability of a clicked item: sigmoid(alpha_cart + log e_k), e_k = w_k / v_k.
      double exp_carts = 0;
      for (std::size_t k = 0; k < count; ++k) {
        const double z = cart0 * (weight[k] / position_weight_[k]);
        cart_prob[k] = z / (1.0 + z);
        exp_carts += click_prob[k] * cart_prob[k];
      }
      // Memory ring: the new page replaces the oldest one (as in search).
      double* cf = remember_page(s, slot, fresh, page, count, px.data());
      // This page's tier shares are the flag columns' page means (n / count exactly, as
      // page_shares counts them); 0 on an empty page.
      const double* fm = s.feat_mean.data() + slot * F + (F - mt);
      double tier_term = 0;
      for (std::size_t j = 0; j < mt; ++j) {
        share[j] = count > 0 ? fm[j] : 0.0;
        share_basic[j] = cs[j];
        tier_term += tiers_.lambdas[j] * (share[j] - cs[j]);
      }
      o.b[i] = oc.b;
      o.l[i] = oc.l;
      o.c[i] = oc.c;
      o.m[i] = oc.m;
      o.expected_clicks[i] = fresh.exp_clicks;
      out.expected_carts[i] = exp_carts;
      PageDraw d;
      double gmv = 0;
      std::int32_t ncart = 0;
      if (sample) {
        // Fixed draw order: search's (outcome, purchased item, one per position for
        // clicks), then one per position for carts.
        d = draw_response(s, oc, click_prob.data(), count, px.data(), cf, clicks);
        for (std::size_t k = 0; k < K; ++k) {
          const double uk = s.rng.uniform();
          carts[k] = static_cast<std::uint8_t>((clicks[k] != 0) & (uk < cart_prob[k]));  // no branch
          ncart += carts[k];
        }
        const std::int32_t nbuy = d.outcome == 1 ? 1 : 0;
        gmv = tiers_.w_click * double(d.n_clicks) + tiers_.w_cart * ncart + tiers_.w_buy * nbuy +
              tiers_.w_price * d.paid;
      } else {
        for (std::size_t k = 0; k < K; ++k) clicks[k] = 0, carts[k] = 0;
        gmv = tiers_.w_click * fresh.exp_clicks + tiers_.w_cart * exp_carts +
              tiers_.w_buy * oc.b + tiers_.w_price * (oc.b * oc.m);
      }
      s.n_clicks[slot] = d.n_clicks;
      out.n_click[i] = static_cast<std::int32_t>(d.n_clicks);
      out.n_cart[i] = ncart;
      out.n_buy[i] = d.outcome == 1 ? 1 : 0;
      out.reward_gmv[i] = gmv;
      out.reward_tier[i] = tier_term;
      o.reward[i] = gmv + tier_term;
      o.outcome[i] = d.outcome;
      o.item[i] = d.item;
      o.price[i] = d.paid;
      const bool ended = d.outcome != 0;
      o.terminated[i] = ended ? 1 : 0;
      o.truncated[i] = (!ended && s.t >= horizon_) ? 1 : 0;
      if (o.terminated[i] || o.truncated[i]) s.needs_reset = true;
      write_obs(s, o.obs + i * D);
    }
  });
}

}  // namespace traffic
}  // namespace simcore
