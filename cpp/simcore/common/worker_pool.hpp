// A persistent pool of worker threads for the per-step loops of the batched simulators.
//
// Why: parallel_for (parallel.hpp) starts and joins a std::thread per call, 25-40 us of
// wall clock on the machines we measured, while a step of 4,096 zones or users takes about
// 100 us per thread.  A pool keeps its workers; dispatching a call costs a store and a
// wake-up (a short spin, then a futex sleep), so the per-call overhead falls to about 1 us.
//
// Ownership: no global pool.  Each simulator object owns one (the binding object, under
// its own mutex), so a pool is never used by two callers at once; run() refuses a second
// concurrent caller with std::logic_error rather than corrupt the dispatch.  Copying a
// pool makes a fresh, empty pool (threads are a resource, not state).  After fork() the
// child has no workers: the pool notices (getpid() differs), abandons the parent's thread
// handles without touching them, and starts its own.
//
// Semantics equal parallel_for's: the same chunking (chunk i = [i*base + min(i, extra),
// ...) for t = effective_threads(n, threads, min_chunk) chunks), chunk 0 on the calling
// thread, an exception from any chunk rethrown on the caller after every chunk finished,
// and a failed thread start (std::system_error) runs the orphaned chunks on the caller.
// Results therefore cannot depend on whether a pool or parallel_for ran the loop.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "simcore/common/parallel.hpp"

namespace simcore {

class WorkerPool {
 public:
  WorkerPool() = default;
  WorkerPool(const WorkerPool&) : WorkerPool() {}
  WorkerPool& operator=(const WorkerPool&) { return *this; }
  ~WorkerPool() { shutdown(); }

  // fn(begin, end) on disjoint contiguous ranges covering [0, n), as parallel_for.
  template <class Fn>
  void parallel_for(std::size_t n, int threads, std::size_t min_chunk, Fn&& fn) {
    if (n == 0) return;
    const std::size_t t = effective_threads(n, threads, min_chunk);
    if (t <= 1) {
      fn(std::size_t{0}, n);
      return;
    }
    auto chunk = [&](std::size_t i) { fn(chunk_begin(i, n, t), chunk_begin(i + 1, n, t)); };
    run(t, [](void* ctx, std::size_t i) { (*static_cast<decltype(chunk)*>(ctx))(i); }, &chunk);
  }

  // Workers currently started (for tests).
  std::size_t workers() const { return threads_.size(); }

 private:
  using Task = void (*)(void*, std::size_t);

  struct Shared {
    std::mutex mu;
    std::condition_variable wake, done;
    std::atomic<std::uint64_t> generation{0};
    std::atomic<std::size_t> pending{0};
    std::atomic<bool> stop{false};
    // Written by the caller before generation is bumped (release).  Every worker takes
    // part in every call (pending counts them all), so none can miss a generation and
    // read the next call's fields for the last one.
    std::size_t chunks = 0;
    Task task = nullptr;
    void* ctx = nullptr;
    std::mutex error_mu;
    std::exception_ptr error;

    void call(std::size_t i) {
      try {
        task(ctx, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
      }
    }
  };

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
  }

  // Spin about kSpinUs microseconds for pred(), then report false (the caller sleeps).
  template <class Pred>
  static bool spin_until(Pred pred) {
    constexpr auto kSpin = std::chrono::microseconds(40);
    const auto t0 = std::chrono::steady_clock::now();
    for (;;) {
      for (int k = 0; k < 64; ++k) {
        if (pred()) return true;
        pause();
      }
      if (std::chrono::steady_clock::now() - t0 > kSpin) return pred();
    }
  }

  // `seen`: the generation when the worker was created, read by the dispatching thread
  // before it bumps the generation (read here, a late-starting worker would miss its
  // first call).
  static void worker(Shared* s, std::size_t index, std::uint64_t seen) {
    for (;;) {
      auto changed = [&] {
        return s->stop.load(std::memory_order_acquire) ||
               s->generation.load(std::memory_order_acquire) != seen;
      };
      if (!spin_until(changed)) {
        std::unique_lock<std::mutex> lock(s->mu);
        s->wake.wait(lock, changed);
      }
      if (s->stop.load(std::memory_order_acquire)) return;
      seen = s->generation.load(std::memory_order_acquire);
      if (index < s->chunks) s->call(index);  // else this call needs fewer workers
      if (s->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(s->mu);
        s->done.notify_one();
      }
    }
  }

  // Start workers up to `want` (worker k runs chunk k, k >= 1); fewer if the system
  // refuses threads.
  void grow(std::size_t want) {
    if (owner_ != getpid()) {  // fresh pool, or the child of a fork: abandon the handles
      if (shared_) {
        (void)new std::vector<std::thread>(std::move(threads_));  // never joined nor destroyed
        (void)shared_.release();
      }
      threads_ = std::vector<std::thread>();
      shared_ = std::make_unique<Shared>();
      owner_ = getpid();
    }
    want = std::min(want, max_threads() - 1);
    while (threads_.size() < want) {
      try {
        threads_.emplace_back(worker, shared_.get(), threads_.size() + 1,
                              shared_->generation.load(std::memory_order_relaxed));
      } catch (const std::system_error&) {
        break;
      }
    }
  }

  void run(std::size_t t, Task task, void* ctx) {
    if (busy_.exchange(true, std::memory_order_acquire))
      throw std::logic_error("WorkerPool: used from two threads at once");
    struct Release {
      std::atomic<bool>& b;
      ~Release() { b.store(false, std::memory_order_release); }
    } release{busy_};
    grow(t - 1);
    Shared& s = *shared_;
    const std::size_t on_workers = std::min(threads_.size(), t - 1);
    s.task = task, s.ctx = ctx, s.chunks = on_workers + 1, s.error = nullptr;
    s.pending.store(threads_.size(), std::memory_order_relaxed);
    if (!threads_.empty()) {
      {
        std::lock_guard<std::mutex> lock(s.mu);
        s.generation.fetch_add(1, std::memory_order_release);
      }
      s.wake.notify_all();
    }
    s.call(0);
    for (std::size_t i = on_workers + 1; i < t; ++i) s.call(i);  // chunks without a worker
    auto finished = [&] { return s.pending.load(std::memory_order_acquire) == 0; };
    if (!spin_until(finished)) {
      std::unique_lock<std::mutex> lock(s.mu);
      s.done.wait(lock, finished);
    }
    if (s.error) std::rethrow_exception(s.error);
  }

  void shutdown() {
    if (!shared_) return;
    if (owner_ != getpid()) {  // a fork's child: the workers are the parent's
      (void)new std::vector<std::thread>(std::move(threads_));
      (void)shared_.release();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->stop.store(true, std::memory_order_release);
    }
    shared_->wake.notify_all();
    for (auto& th : threads_) th.join();
  }

  std::unique_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  pid_t owner_ = -1;
  std::atomic<bool> busy_{false};
};

// Where a loop runs: on `threads` threads (<= 0: all cores), through `pool` when the
// caller owns one (else parallel_for's per-call threads).  Implicit from an int, so a
// caller without a pool passes its thread count as before.
struct Exec {
  Exec(int t = 1, WorkerPool* p = nullptr) : threads(t), pool(p) {}  // NOLINT: implicit by design
  int threads;
  WorkerPool* pool;
};

template <class Fn>
void parallel_for(const Exec& ex, std::size_t n, std::size_t min_chunk, Fn&& fn) {
  if (ex.pool != nullptr)
    ex.pool->parallel_for(n, ex.threads, min_chunk, std::forward<Fn>(fn));
  else
    parallel_for(n, ex.threads, min_chunk, std::forward<Fn>(fn));
}

}  // namespace simcore
