"""The package's import rules (docs/architecture.md): imports run one way through the
layers, no module imports one of a later layer (not even inside a function), and no
import cycle. A failure names the offending import."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "losscli"

#: Layer of each module prefix, lowest first; the longest matching prefix wins.
LAYERS: dict[str, int] = {
    "losscli.errors": 0,
    "losscli.files": 0,
    "losscli.safeyaml": 0,
    "losscli.allocator": 0,
    "losscli.gates": 0,
    "losscli.losses": 0,
    "losscli.registry": 1,
    "losscli.options": 1,
    "losscli.plugins": 1,
    "losscli.compute": 2,
    "losscli.accumulate": 2,
    "losscli.noskill": 2,
    "losscli.run": 2,
    "losscli.engine": 2,
    "losscli.bootstrap": 2,
    "losscli.per_sample": 2,
    "losscli.regularized": 2,
    "losscli.gradients": 2,
    "losscli.precision": 2,
    "losscli.composite": 2,
    "losscli.curves": 2,  # smoothing, callback replays, findings, chance level
    "losscli.curves.api": 4,  # reads the logs (data) and builds the curves document
    "losscli.data": 3,
    "losscli.engines": 3,
    "losscli.advice": 4,
    "losscli.analysis": 4,
    "losscli.config": 4,
    "losscli.api": 4,
    "losscli.comparison": 4,
    "losscli.catalogue": 4,
    "losscli.rules": 4,
    "losscli.report": 5,
    "losscli.cli": 6,
    "losscli.__main__": 6,
    "losscli": 6,  # the package's __init__: the public API re-exports
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def _imports(path: Path) -> set[str]:
    """Every losscli module ``path`` imports, at module level or inside a function."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("losscli"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            if base.startswith("losscli"):
                out.add(base)
    return out


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PKG.rglob("*.py"))}


def test_imports_run_one_way() -> None:
    upward = [
        f"{mod} (layer {_layer(mod)}) imports {dep} (layer {_layer(dep)})"
        for mod, deps in _graph().items()
        for dep in sorted(deps)
        # the package itself (``from losscli import __version__``) is importable by all:
        # its ``__init__`` holds the version and a lazy loader, nothing else
        if mod != "losscli" and dep != "losscli" and _layer(dep) > _layer(mod)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle() -> None:
    graph = _graph()
    modules = set(graph)

    def resolve(dep: str) -> str | None:
        # "from losscli.data import x" names the package; keep only real modules
        return dep if dep in modules else None

    edges = {
        m: {r for d in deps if (r := resolve(d)) and r != m and m != "losscli" and r != "losscli"}
        for m, deps in graph.items()
    }
    # a package's __init__ importing its own submodules is not a cycle
    for m in edges:
        edges[m] = {d for d in edges[m] if not d.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                cycles.append(" → ".join([*stack[stack.index(d) :], d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "\n".join(cycles)


def test_math_imports_only_numpy() -> None:
    allowed = {
        "numpy",
        "math",
        "__future__",
        "collections",
        "dataclasses",
        "typing",
        "functools",
        "fractions",
    }
    bad = []
    for path in sorted((PKG / "losses").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for n in names:
                top = n.split(".")[0]
                if top not in allowed and not n.startswith("losscli.losses"):
                    bad.append(f"{path.name} imports {n}")
    assert not bad, "\n".join(bad)
