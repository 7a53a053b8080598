// The Python-side SessionBatch object: the C++ simulator plus a per-object mutex.
//
// Every method that touches the simulator runs under `with_lock`: the GIL is released
// first and the mutex taken second (so a thread waiting for the mutex never holds the
// GIL, and the thread holding it never needs the GIL: no deadlock).  Two Python threads
// using one simulator are thereby serialised instead of corrupting its state.
#pragma once
#include <pybind11/pybind11.h>

#include <mutex>
#include <utility>

#include "simcore/search/session.hpp"

namespace simcore_py {

struct SessionBatchObject {
  explicit SessionBatchObject(simcore::SessionBatch s) : sim(std::move(s)) {}
  simcore::SessionBatch sim;
  mutable std::mutex mu;              // serialises the calls (the GIL is released inside)
  mutable simcore::WorkerPool pool;   // the loops' workers, used under mu
};

// Runs f() with the GIL released and the object's mutex held; returns its result.
template <class F>
auto with_lock(const SessionBatchObject& o, F&& f) -> decltype(f()) {
  pybind11::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(o.mu);
  return f();
}

// A SessionState as a dict of flat NumPy arrays and back (search_state.cpp; shared by
// the simulators derived from SessionBatch).  state_from_dict checks keys and dtypes;
// B (the batch size) fills the stream keys of a state saved without them.
pybind11::dict state_to_dict(const simcore::SessionState& st);
simcore::SessionState state_from_dict(const pybind11::dict& d, std::size_t B);

// Registers get_state / set_state (search_state.cpp).
void register_search_state(pybind11::class_<SessionBatchObject>& cls);

}  // namespace simcore_py
