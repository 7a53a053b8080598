// Contiguous-chunk parallel loop.  No global pool: threads are created per call
// and joined before returning; chunk 0 runs on the calling thread.
#pragma once
#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace simcore {

inline int default_threads() {
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

// fn(begin, end) is called on disjoint contiguous ranges covering [0, n).
template <class Fn>
void parallel_for(std::size_t n, int threads, std::size_t min_chunk, Fn&& fn) {
  if (n == 0) return;
  std::size_t t = threads <= 0 ? static_cast<std::size_t>(default_threads())
                               : static_cast<std::size_t>(threads);
  if (min_chunk == 0) min_chunk = 1;
  t = std::min(t, (n + min_chunk - 1) / min_chunk);
  if (t <= 1) {
    fn(std::size_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  const std::size_t base = n / t, extra = n % t;
  std::size_t begin = 0;
  std::size_t first_end = base + (extra > 0 ? 1 : 0);
  begin = first_end;
  for (std::size_t i = 1; i < t; ++i) {
    const std::size_t len = base + (i < extra ? 1 : 0);
    const std::size_t b = begin, e = begin + len;
    pool.emplace_back([&fn, b, e] { fn(b, e); });
    begin = e;
  }
  fn(std::size_t{0}, first_end);
  for (auto& th : pool) th.join();
}

}  // namespace simcore
