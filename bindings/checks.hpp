// Argument checks shared by the register_* files.  Every failure raises a Python
// TypeError (dtype) or ValueError (shape, layout, values) naming the argument.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace simcore_py {
namespace py = pybind11;

inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  if (a.ndim() == 1) s += ",";
  return s + ")";
}

template <class T>
const char* dtype_name() {
  if (std::is_same<T, float>::value) return "float32";
  if (std::is_same<T, double>::value) return "float64";
  if (std::is_same<T, std::int64_t>::value) return "int64";
  if (std::is_same<T, std::int32_t>::value) return "int32";
  if (std::is_same<T, std::int8_t>::value) return "int8";
  if (std::is_same<T, std::uint64_t>::value) return "uint64";
  if (std::is_same<T, std::uint32_t>::value) return "uint32";
  if (std::is_same<T, bool>::value) return "bool";
  return "uint8";
}

// Checks dtype (by equality, so unpickled or non-canonical dtype objects pass), rank,
// shape and C-contiguity.  Returns the array unchanged, except that a misaligned input
// (a view at an odd byte offset) is copied to aligned memory; a misaligned output is
// rejected.  `dims` entries < 0 are free.  For outputs, `writeable` is required.
template <class T>
py::array_t<T> expect(const py::handle& obj, const char* name, std::vector<py::ssize_t> dims,
                      bool writeable = false) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(name) + ": expected a numpy array of dtype " +
                         dtype_name<T>());
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().equal(py::dtype::of<T>()))
    throw py::type_error(std::string(name) + ": expected dtype " + dtype_name<T>() + ", got " +
                         std::string(py::str(a.dtype())));
  if (a.ndim() != static_cast<py::ssize_t>(dims.size()))
    throw py::value_error(std::string(name) + ": expected " + std::to_string(dims.size()) +
                          "-d array, got shape " + shape_str(a));
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (dims[i] >= 0 && a.shape(static_cast<py::ssize_t>(i)) != dims[i])
      throw py::value_error(std::string(name) + ": wrong shape " + shape_str(a) +
                            " (axis " + std::to_string(i) + " must be " +
                            std::to_string(dims[i]) + ")");
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + ": must be C-contiguous");
  if (writeable && !a.writeable())
    throw py::value_error(std::string(name) + ": output buffer must be writeable");
  if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) != 0) {
    if (writeable)
      throw py::value_error(std::string(name) + ": output buffer must be aligned to " +
                            std::to_string(alignof(T)) + " bytes");
    a = a.attr("copy")();  // C-contiguous, aligned
  }
  return py::reinterpret_borrow<py::array_t<T>>(a);
}

}  // namespace simcore_py
