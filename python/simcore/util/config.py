"""Configs as dataclasses: to and from plain dicts, dotted-path overrides, and the
field documentation the CLI shows.

Every config in simcore is a (frozen) dataclass whose docstring has an
``Attributes:`` section documenting each field (meaning, default meaning, valid
range) and whose ``__post_init__`` validates it.  These helpers work on any such
class through its type hints, so there is one resolver for every experiment:

* :func:`to_dict` - nested plain values (tuples as lists), JSON-ready;
* :func:`from_dict` - the inverse: nested dicts become nested dataclasses by field
  type, lists become tuples, unknown keys raise ValueError naming the dotted path;
* :func:`set_path` - ``set_path(cfg, "session.user.leave_frustration", "6")``: a
  new config with one field replaced, the string parsed by the field's type;
* :func:`field_docs` / :func:`iter_fields` - documentation for ``--help``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar, Union

C = TypeVar("C")


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(typing.get_args(tp))
    return tp, False


def to_dict(cfg: Any) -> Any:
    """Nested plain values of a dataclass (tuples -> lists, nested configs -> dicts)."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, (list, tuple)):
        return [to_dict(v) for v in cfg]
    if isinstance(cfg, Mapping):
        return {str(k): to_dict(v) for k, v in cfg.items()}
    return cfg


def _convert(tp: Any, value: Any, path: str) -> Any:
    tp, optional = _unwrap_optional(tp)
    if value is None:
        return None  # the dataclass's own check decides whether None is allowed
    if _is_dataclass_type(tp):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return value
        if not isinstance(value, Mapping):
            raise ValueError(f"{path}: expected a mapping of {tp.__name__} fields, got {value!r}")
        return from_dict(tp, value, _prefix=path + ".")
    origin = typing.get_origin(tp)
    if origin is tuple and isinstance(value, (list, tuple)):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if args and len(args) == len(value):
            return tuple(_convert(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        return tuple(value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_dict(cls: type[C], d: Mapping[str, Any] | None, *, _prefix: str = "") -> C:
    """A ``cls`` from a nested dict; unspecified fields keep their defaults.

    Raises:
        ValueError: unknown keys (naming the dotted path) or a value the class rejects;
        TypeError: a value of the wrong kind (the class's own checks).
    """
    if d is None:
        d = {}
    if not isinstance(d, Mapping):
        raise ValueError(f"{_prefix.rstrip('.') or 'config'}: expected a mapping, got {type(d).__name__}")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    unknown = sorted(set(d) - set(names))
    if unknown:
        raise ValueError(f"{_prefix}{unknown[0]}: unknown field of {cls.__name__} "
                         f"(known: {', '.join(names)})")
    kwargs = {k: _convert(hints[k], v, _prefix + k) for k, v in d.items()}
    return cls(**kwargs)


def parse_value(tp: Any, text: str, path: str) -> Any:
    """Parses a command-line string for a field of type ``tp`` (JSON for containers,
    ``none``/``null`` for None, ``true``/``false`` for bools)."""
    inner, optional = _unwrap_optional(tp)
    t = text.strip()
    if t.lower() in ("none", "null"):
        return None
    try:
        if inner is bool:
            if t.lower() in ("true", "1", "yes"):
                return True
            if t.lower() in ("false", "0", "no"):
                return False
            raise ValueError
        if inner is int:
            return int(t)
        if inner is float:
            return float(t)
        if inner is str:
            return t
        if typing.get_origin(inner) is tuple:
            return _parse_tuple(inner, t, path)
        return json.loads(t)
    except (ValueError, json.JSONDecodeError) as e:
        if str(e).startswith(path + "["):  # an item of a tuple, already named
            raise
        name = getattr(inner, "__name__", str(inner))
        raise ValueError(f"{path}: expected {name}, got {text!r}") from None


def _parse_tuple(tp: Any, text: str, path: str) -> tuple[Any, ...]:
    """A tuple field from JSON (``[0.1, 0.2]``) or comma-separated items (``0.1,0.2``,
    ``dpg,cem``; ``[]`` or an empty string for the empty tuple), each item parsed by
    the element type."""
    if text.startswith("["):
        return tuple(json.loads(text))
    if not text:
        return ()
    args = typing.get_args(tp)
    items = [s.strip() for s in text.split(",")]
    if len(args) == 2 and args[1] is Ellipsis:
        types_ = [args[0]] * len(items)
    elif args and len(args) == len(items):
        types_ = list(args)
    else:
        raise ValueError
    return tuple(parse_value(a, s, f"{path}[{i}]") for i, (a, s) in enumerate(zip(types_, items)))


def set_path(cfg: C, path: str, value: Any) -> C:
    """A copy of ``cfg`` with the field at dotted ``path`` set to ``value`` (a string is
    parsed by the field's type).  Raises ValueError naming the path if it is unknown
    or the value is rejected."""
    head, _, rest = path.partition(".")
    fields = {f.name: f for f in dataclasses.fields(cfg)}  # type: ignore[arg-type]
    if head not in fields:
        raise ValueError(f"{path}: unknown field of {type(cfg).__name__} (known: {', '.join(fields)})")
    tp = _hints(type(cfg))[head]
    cur = getattr(cfg, head)
    if rest:
        inner, _ = _unwrap_optional(tp)
        if cur is None and _is_dataclass_type(inner):
            cur = inner()
        if not (dataclasses.is_dataclass(cur) and not isinstance(cur, type)):
            raise ValueError(f"{path}: {head} has no fields")
        try:
            new = set_path(cur, rest, value)
        except ValueError as e:
            raise ValueError(f"{head}.{e}") from None
    else:
        new = parse_value(tp, value, path) if isinstance(value, str) else value
        new = _convert(tp, new, path)
    try:
        return dataclasses.replace(cfg, **{head: new})  # type: ignore[type-var]
    except TypeError as e:
        raise ValueError(f"{path}: {e}") from e


_ATTR = re.compile(r"^\s{4,}(\w+(?:, \w+)*):\s*(.*)$")


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its description from the ``Attributes:`` section of the class
    docstring (continuation lines joined)."""
    doc = cls.__doc__ or ""
    out: dict[str, str] = {}
    in_attrs, cur = False, None  # cur: the names the current entry documents
    for line in doc.splitlines():
        if line.strip() == "Attributes:":
            in_attrs = True
            continue
        if not in_attrs:
            continue
        if line.strip() and not line.startswith(" " * 4):
            break
        m = _ATTR.match(line)
        indent = len(line) - len(line.lstrip())
        if m and (cur is None or indent <= 8):
            cur = [n.strip() for n in m.group(1).split(",")]  # "a, b: ..." documents both
            for n in cur:
                out[n] = m.group(2).strip()
        elif cur and line.strip():
            for n in cur:
                out[n] += " " + line.strip()
    return out


def iter_fields(cfg: Any, prefix: str = "") -> Iterator[tuple[str, Any, str]]:
    """(dotted path, current value, description) for every leaf field of ``cfg``,
    nested configs expanded."""
    docs = field_docs(type(cfg))
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            yield from iter_fields(v, prefix + f.name + ".")
        else:
            yield prefix + f.name, v, docs.get(f.name, "")
