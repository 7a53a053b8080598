"""The house's rules, checked on the source (ast, no imports executed):

* imports point one way: cli -> experiments -> domains -> shared layers (algos,
  train, runner, envs, report) -> kernels -> util -> _core; algos know no env and no
  domain; envs know no learner; a derived domain imports its base, never the reverse;
* no import cycle among simcore's modules (imports inside functions included);
* no module over 400 lines (the compatibility forwarders are tiny anyway).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "python"
PKG = ROOT / "simcore"

#: what each layer may import (besides itself and the standard library / third parties)
ALLOWED = {
    "util": {"util"},
    "kernels": {"util", "_core"},
    "envs": {"util", "kernels"},
    "algos": {"util"},
    "report": {"util"},
    "runner": {"util"},
    "train": {"util", "algos", "envs"},
    "domains": {"util", "kernels", "_core", "envs", "algos", "train", "runner", "report", "domains", "_version"},
    "experiments": {"util", "kernels", "envs", "algos", "train", "runner", "report", "domains", "experiments"},
    "cli": {"experiments", "util", "kernels", "domains", "report", "_version"},
    "_version": set(),
    "__main__": {"cli"},
}
#: derived domain -> the base domains it may import
DERIVED = {"search": set(), "feature_cost": {"search"}, "traffic": {"search"}, "bandits": set(),
           "virtual_taobao": {"search"}}
#: top-level compatibility modules (forwarders to the new homes) and the package root
EXEMPT = {"simcore", "simcore.core", "simcore.reference", "simcore.config", "simcore.world"}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The simcore module an imported dotted name refers to (longest known prefix)."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in MODULES:
            return cand
        parts.pop()
    return None


def _imports(mod: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            # `from pkg import sub` imports the module pkg.sub when it is one, else a
            # name of pkg itself
            names = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            if n == "simcore._core" or n.startswith("simcore._core."):
                found.add("simcore._core")
                continue
            r = _resolve(n) if n.split(".")[0] == "simcore" else None
            if r is not None and r != mod:
                found.add(r)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _layer(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else "simcore"


def _domain(mod: str) -> str | None:
    parts = mod.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "domains" else None


def test_imports_point_one_way():
    bad = []
    for mod, deps in GRAPH.items():
        if mod in EXEMPT:
            continue
        layer = _layer(mod)
        allowed = ALLOWED.get(layer)
        assert allowed is not None, f"{mod}: layer {layer!r} is not in ALLOWED; add it to the house rules"
        for dep in deps:
            dl = "_core" if dep == "simcore._core" else _layer(dep)
            if dep in EXEMPT or (dl not in allowed and dl != layer):
                bad.append(f"{mod} -> {dep}")
            elif layer == "domains" and dl == "domains" and _domain(mod) and _domain(dep):
                src, dst = _domain(mod), _domain(dep)
                if src != dst and dst not in DERIVED.get(src, set()):
                    bad.append(f"{mod} -> {dep} (domain {src} may not import domain {dst})")
    assert not bad, "imports pointing the wrong way:\n" + "\n".join(sorted(bad))


def _package_of(mod: str) -> str:
    return mod.rpartition(".")[0]


def test_no_import_cycles():
    # A package's __init__ importing its own submodules is not a cycle by itself; a
    # submodule importing its package's __init__ back would be, and is reported.
    graph = {m: {d for d in deps if d in GRAPH} for m, deps in GRAPH.items()}
    color: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(n: str) -> None:
        color[n] = 1
        stack.append(n)
        for d in sorted(graph[n]):
            if color.get(d, 0) == 0:
                visit(d)
            elif color.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
        stack.pop()
        color[n] = 2

    for n in sorted(graph):
        if color.get(n, 0) == 0:
            visit(n)
    # ignore the trivial package-init <-> own-submodule pattern when the submodule
    # only imports the package to reach a sibling (resolved to the sibling already)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_module_size(mod):
    n = len(MODULES[mod].read_text().splitlines())
    assert n <= MAX_LINES, f"{mod}: {n} lines (house limit {MAX_LINES}); split it by what it holds"


MAX_FUNCTION_LINES = 80


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                out.append(f"{node.name} ({n} lines, line {node.lineno})")
    return out


@pytest.mark.parametrize("mod", sorted(MODULES))
def test_function_size(mod):
    long = _long_functions(MODULES[mod])
    assert not long, f"{mod}: functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


def test_optional_dependency_probes():
    from simcore.util import optional

    assert optional.module_available("json") and not optional.module_available("simcore_no_such_module")
    assert optional.module_version("simcore_no_such_module") == "not installed"
    import numpy as np

    assert optional.module_version("numpy") == np.__version__
    assert isinstance(optional.sb3_available(), bool)
