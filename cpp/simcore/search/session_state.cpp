// SessionBatch seeding, per-slot queries (users, steps_taken) and get_state / set_state:
// the full mutable state as flat arrays (pickling).
#include <stdexcept>
#include <string>

#include "simcore/search/session.hpp"

namespace simcore {
namespace {

constexpr std::size_t kMemoFields = 6;

void expect_size(std::size_t got, std::size_t want, const char* field) {
  if (got != want)
    throw std::invalid_argument(std::string("state['") + field + "']: expected " +
                                std::to_string(want) + " values, got " + std::to_string(got));
}

[[noreturn]] void bad(const char* field, const std::string& why) {
  throw std::invalid_argument(std::string("state['") + field + "']: " + why);
}

}  // namespace

void SessionBatch::seed(std::uint64_t seed) {
  seed_ = seed;
  for (std::size_t j = 0; j < sessions_.size(); ++j) {
    Session& s = sessions_[j];
    s.key_seed = seed;
    s.key_stream = j;
    s.episode = 0;
    s.needs_reset = true;
  }
}

void SessionBatch::seed_slots(const std::uint64_t* seeds) {
  for (std::size_t j = 0; j < sessions_.size(); ++j) {
    Session& s = sessions_[j];
    s.key_seed = seeds[j];
    s.key_stream = 0;
    s.episode = 0;
    s.needs_reset = true;
  }
}

std::vector<UserProfile> SessionBatch::users() const {
  std::vector<UserProfile> u;
  u.reserve(sessions_.size());
  for (const auto& s : sessions_) u.push_back(s.user);
  return u;
}

std::vector<std::size_t> SessionBatch::steps_taken() const {
  std::vector<std::size_t> t;
  t.reserve(sessions_.size());
  for (const auto& s : sessions_) t.push_back(s.t);
  return t;
}

SessionState SessionBatch::get_state() const {
  const std::size_t B = sessions_.size(), W = model_.window, N = world_.n_items;
  SessionState st;
  st.seed = seed_;
  st.rng.reserve(B);
  st.memo.reserve(B * W * kMemoFields);
  st.shown.reserve(B * N);
  for (const Session& s : sessions_) {
    st.slot_seed.push_back(s.key_seed);
    st.slot_stream.push_back(s.key_stream);
    st.rng.push_back(s.rng.state);
    st.episode.push_back(s.episode);
    st.query.push_back(s.user.query);
    st.segment.push_back(s.user.segment);
    st.power.push_back(s.user.power);
    st.patience.push_back(s.user.patience);
    st.pref.insert(st.pref.end(), s.user.pref.begin(), s.user.pref.end());
    st.shown.insert(st.shown.end(), s.shown.begin(), s.shown.end());
    st.t.push_back(s.t);
    st.n_pages.push_back(s.n_pages);
    st.head.push_back(s.head);
    st.needs_reset.push_back(s.needs_reset ? 1 : 0);
    for (const PageMemo& pm : s.memo) {
      st.memo.insert(st.memo.end(), {pm.sum_ve, pm.sum_vep, pm.sum_vx0, pm.sum_v,
                                     pm.frustration, pm.exp_clicks});
      st.memo_count.push_back(pm.count);
    }
    st.items.insert(st.items.end(), s.items.begin(), s.items.end());
    st.item_weight.insert(st.item_weight.end(), s.item_weight.begin(), s.item_weight.end());
    st.feat_mean.insert(st.feat_mean.end(), s.feat_mean.begin(), s.feat_mean.end());
    st.click_feat.insert(st.click_feat.end(), s.click_feat.begin(), s.click_feat.end());
    st.n_clicks.insert(st.n_clicks.end(), s.n_clicks.begin(), s.n_clicks.end());
  }
  return st;
}

void SessionBatch::set_state(const SessionState& st) {
  const std::size_t B = sessions_.size(), W = model_.window, K = config_.page_size;
  const std::size_t m = world_.n_features, N = world_.n_items;
  expect_size(st.slot_seed.size(), B, "slot_seed");
  expect_size(st.slot_stream.size(), B, "slot_stream");
  expect_size(st.rng.size(), B, "rng");
  expect_size(st.episode.size(), B, "episode");
  expect_size(st.query.size(), B, "query");
  expect_size(st.segment.size(), B, "segment");
  expect_size(st.power.size(), B, "power");
  expect_size(st.patience.size(), B, "patience");
  expect_size(st.pref.size(), B * m, "pref");
  expect_size(st.shown.size(), B * N, "shown");
  expect_size(st.t.size(), B, "t");
  expect_size(st.n_pages.size(), B, "n_pages");
  expect_size(st.head.size(), B, "head");
  expect_size(st.needs_reset.size(), B, "needs_reset");
  expect_size(st.memo.size(), B * W * kMemoFields, "memo");
  expect_size(st.memo_count.size(), B * W, "memo_count");
  expect_size(st.items.size(), B * W * K, "items");
  expect_size(st.item_weight.size(), B * W * K, "item_weight");
  expect_size(st.feat_mean.size(), B * W * m, "feat_mean");
  expect_size(st.click_feat.size(), B * W * m, "click_feat");
  expect_size(st.n_clicks.size(), B * W, "n_clicks");
  // Ranges: everything later used as an index must be valid.
  for (std::size_t b = 0; b < B; ++b) {
    if (st.query[b] < 0 || static_cast<std::uint64_t>(st.query[b]) >= world_.n_queries)
      bad("query", "ids must lie in [0, n_queries)");
    if (st.segment[b] < 0 || static_cast<std::size_t>(st.segment[b]) >= world_.n_segments)
      bad("segment", "ids must lie in [0, n_segments)");
    if (st.head[b] >= W) bad("head", "must lie in [0, window)");
    if (st.n_pages[b] > W) bad("n_pages", "must lie in [0, window]");
    if (st.t[b] > horizon_) bad("t", "must lie in [0, horizon]");
    if (st.needs_reset[b] > 1) bad("needs_reset", "must be 0 or 1");
  }
  for (std::size_t i = 0; i < B * W; ++i) {
    if (st.memo_count[i] > K) bad("memo_count", "must lie in [0, page_size]");
    for (std::size_t k = 0; k < K; ++k) {
      const std::int64_t it = st.items[i * K + k];
      if (it < -1 || it >= static_cast<std::int64_t>(N) || (k < st.memo_count[i] && it < 0))
        bad("items", "ids must lie in [0, n_items) (or -1 past the page's count)");
    }
  }
  seed_ = st.seed;
  for (std::size_t b = 0; b < B; ++b) {
    Session& s = sessions_[b];
    s.key_seed = st.slot_seed[b];
    s.key_stream = st.slot_stream[b];
    s.rng.state = st.rng[b];
    s.episode = st.episode[b];
    s.user.query = st.query[b];
    s.user.segment = st.segment[b];
    s.user.power = st.power[b];
    s.user.patience = st.patience[b];
    s.user.pref.assign(st.pref.begin() + b * m, st.pref.begin() + (b + 1) * m);
    s.shown.assign(st.shown.begin() + b * N, st.shown.begin() + (b + 1) * N);
    s.t = st.t[b];
    s.n_pages = st.n_pages[b];
    s.head = st.head[b];
    s.needs_reset = st.needs_reset[b] != 0;
    for (std::size_t w = 0; w < W; ++w) {
      const double* f = st.memo.data() + (b * W + w) * kMemoFields;
      s.memo[w] = PageMemo{f[0], f[1], f[2], f[3], f[4], f[5], st.memo_count[b * W + w]};
    }
    s.items.assign(st.items.begin() + b * W * K, st.items.begin() + (b + 1) * W * K);
    s.item_weight.assign(st.item_weight.begin() + b * W * K,
                         st.item_weight.begin() + (b + 1) * W * K);
    s.feat_mean.assign(st.feat_mean.begin() + b * W * m, st.feat_mean.begin() + (b + 1) * W * m);
    s.click_feat.assign(st.click_feat.begin() + b * W * m,
                        st.click_feat.begin() + (b + 1) * W * m);
    s.n_clicks.assign(st.n_clicks.begin() + b * W, st.n_clicks.begin() + (b + 1) * W);
  }
}

}  // namespace simcore
