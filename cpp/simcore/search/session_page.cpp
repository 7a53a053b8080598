// The two steps of a page that derived domains share with search (cpp/simcore/traffic/):
// storing the page just shown in the user's memory ring, and drawing the user's
// response in the fixed order that makes every session's stream reproducible.
#include <algorithm>
#include <cstdint>

#include "simcore/search/session.hpp"

namespace simcore {

double* SessionBatch::remember_page(Session& s, std::size_t slot, const PageMemo& fresh,
                                    const std::int64_t* page, std::size_t count, const float* px) {
  const std::size_t K = config_.page_size, m = world_.n_features, W = model_.window;
  s.head = slot;
  s.n_pages = std::min(s.n_pages + 1, W);
  s.memo[slot] = fresh;
  double* fm = s.feat_mean.data() + slot * m;
  double* cf = s.click_feat.data() + slot * m;
  std::fill(fm, fm + m, 0.0);
  std::fill(cf, cf + m, 0.0);
  for (std::size_t k = 0; k < K; ++k) {
    s.items[slot * K + k] = page[k];
    if (k >= count) s.item_weight[slot * K + k] = 0.0;
  }
  for (std::size_t k = 0; k < count; ++k) {
    s.shown[static_cast<std::size_t>(page[k])] = 1;
    const float* x = px + k * m;
    for (std::size_t j = 0; j < m; ++j) fm[j] += x[j];
  }
  for (std::size_t j = 0; j < m; ++j) fm[j] /= double(count);
  s.t += 1;
  return cf;
}

SessionBatch::PageDraw SessionBatch::draw_response(Session& s, const Outcome& o,
                                                   const double* click_prob, std::size_t count,
                                                   const float* px, double* cf,
                                                   std::uint8_t* clicks) const {
  const std::size_t K = config_.page_size, m = world_.n_features, N = world_.n_items;
  const std::size_t q = static_cast<std::size_t>(s.user.query);
  PageDraw d;
  const double u = s.rng.uniform();
  const double u_item = s.rng.uniform();
  d.outcome = u < o.b ? 1 : (u < o.b + o.l ? 2 : 0);
  if (d.outcome == 1) {
    d.item = choose_item(s, u_item);
    d.paid = anchor_price_[2 * (q * N + static_cast<std::size_t>(d.item)) + 1];
  }
  for (std::size_t k = 0; k < K; ++k) {
    const double uc = s.rng.uniform();
    clicks[k] = (k < count && uc < click_prob[k]) ? 1 : 0;
    if (clicks[k]) {
      ++d.n_clicks;
      const float* x = px + k * m;
      for (std::size_t j = 0; j < m; ++j) cf[j] += x[j];
    }
  }
  return d;
}

}  // namespace simcore
