// A minimal non-owning view over a contiguous buffer (C++17 has no std::span).
#pragma once
#include <cstddef>

namespace simcore {

template <class T>
struct Span {
  T* ptr = nullptr;
  std::size_t len = 0;
  Span() = default;
  Span(T* p, std::size_t n) : ptr(p), len(n) {}
  T* data() const { return ptr; }
  std::size_t size() const { return len; }
  bool empty() const { return len == 0; }
  T& operator[](std::size_t i) const { return ptr[i]; }
  Span subspan(std::size_t off, std::size_t n) const { return Span(ptr + off, n); }
};

}  // namespace simcore
