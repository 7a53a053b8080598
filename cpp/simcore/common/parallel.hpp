// Contiguous-chunk parallel loop.  No global pool: threads are created per call
// and joined before returning; chunk 0 runs on the calling thread.
//
// Hardening: the thread count is bounded (max_threads()), a failed std::thread creation
// (std::system_error) runs the chunks that got no thread on the calling thread, and an
// exception thrown by fn in any chunk is rethrown on the calling thread after every
// started thread has been joined (never std::terminate).  The chunking depends only on
// (n, t), and callers' results do not depend on the chunking.
#pragma once
#include <algorithm>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace simcore {

// Hardware threads, read once (std::thread::hardware_concurrency parses /sys on every
// call, ~10 us, too slow for the per-step path).  A constant of the machine, not state.
inline int default_threads() {
  static const int hc = [] {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
  }();
  return hc;
}

// Upper bound on the threads one call starts: min(4 * hardware threads, 256).
inline std::size_t max_threads() {
  return std::min<std::size_t>(256, 4 * static_cast<std::size_t>(default_threads()));
}

// Number of threads parallel_for uses for n items (threads <= 0: all cores).
inline std::size_t effective_threads(std::size_t n, int threads, std::size_t min_chunk) {
  std::size_t t = threads <= 0 ? static_cast<std::size_t>(default_threads())
                               : static_cast<std::size_t>(threads);
  if (min_chunk == 0) min_chunk = 1;
  t = std::min(t, (n + min_chunk - 1) / min_chunk);
  if (t > 1) t = std::min(t, max_threads());
  return std::max<std::size_t>(t, 1);
}

// Start of chunk i of [0, n) split into t contiguous chunks (the first n % t one longer);
// chunk i is [chunk_begin(i, n, t), chunk_begin(i + 1, n, t)).  Shared by parallel_for and
// WorkerPool, so both split a batch the same way.
inline std::size_t chunk_begin(std::size_t i, std::size_t n, std::size_t t) {
  return i * (n / t) + std::min(i, n % t);
}

// fn(begin, end) is called on disjoint contiguous ranges covering [0, n).
template <class Fn>
void parallel_for(std::size_t n, int threads, std::size_t min_chunk, Fn&& fn) {
  if (n == 0) return;
  const std::size_t t = effective_threads(n, threads, min_chunk);
  if (t <= 1) {
    fn(std::size_t{0}, n);
    return;
  }
  std::exception_ptr error;
  std::mutex error_mu;
  auto run = [&](std::size_t i) {
    try {
      fn(chunk_begin(i, n, t), chunk_begin(i + 1, n, t));
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  std::size_t started = 1;  // chunks 1..started-1 have a thread
  for (; started < t; ++started) {
    try {
      pool.emplace_back(run, started);
    } catch (const std::system_error&) {
      break;  // out of threads: the rest run here
    }
  }
  run(0);
  for (std::size_t i = started; i < t; ++i) run(i);
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace simcore
