"""The real import graph of a source tree, read with `ast`: what tests/test_architecture.py checks.

Every import form counts: `import a.b`, `from a import b`, relative imports (resolved against the
module's package), imports inside functions (the lazy ones that keep `--help` fast), and
`importlib.import_module("a.b")` / `__import__("a.b")` with a literal name. An edge goes to the
module named (`from a import b` to `a.b` when that is a module, else to `a`), not to the packages
above it, so a package's `__init__` gathering its own modules is not a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Graph:
    """Modules of the tree, what each imports inside the tree when it runs (``internal``) and for
    the type checker only (``typing``), and the outside names it imports."""

    files: dict[str, Path] = field(default_factory=dict)
    internal: dict[str, set[str]] = field(default_factory=dict)
    typing: dict[str, set[str]] = field(default_factory=dict)
    external: dict[str, set[str]] = field(default_factory=dict)

    def imports(self, module: str) -> set[str]:
        """Every module of the tree ``module`` names, run or typing-only: layers hold for both."""
        return self.internal.get(module, set()) | self.typing.get(module, set())


def module_names(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted name → file for every .py under each top-level package in ``root``."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a relative import `from <level dots><name> import ...` in ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([name] if name else [])])


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:`: imports for the type checker, never run."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return hidden


def imported_names(source: str, module: str, is_package: bool = False) -> Iterator[tuple[str, bool]]:
    """(dotted name, runs) for every name ``module`` imports, at any depth of its code; runs is
    False under `if TYPE_CHECKING:`. `from a import b, c` gives `a.b` and `a.c` (the caller takes
    the longest part of each that is a module)."""
    tree = ast.parse(source)
    hidden = _type_checking_only(tree)
    for node, name in _imports(tree, module, is_package):
        yield name, id(node) not in hidden


def _imports(tree: ast.Module, module: str, is_package: bool) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module == "__future__":
                continue
            base = _resolve(module, is_package, node.level, node.module)
            yield from ((node, f"{base}.{alias.name}" if alias.name != "*" else base) for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and (name := _literal(node.args[0])) is not None:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                level = len(name) - len(name.lstrip("."))
                yield node, _resolve(module, is_package, level, name.lstrip(".") or None) if level else name


def _module_of(name: str, files: Mapping[str, Path]) -> str | None:
    """`a.b.c` → the longest of `a.b.c`, `a.b`, `a` that is a module (`from a import b`: a.b if
    b is a module, else module a, where the name b lives)."""
    parts = name.split(".")
    while parts and ".".join(parts) not in files:
        parts.pop()
    return ".".join(parts) or None


def build(root: Path, packages: Iterable[str]) -> Graph:
    """The graph of every module under ``packages`` (top-level package directories in ``root``)."""
    packages = list(packages)
    files = module_names(root, packages)
    graph = Graph(files=files)
    for module, path in files.items():
        found = set(imported_names(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"))
        for runs, edges in ((True, graph.internal), (False, graph.typing)):
            inside = {_module_of(n, files) for n, r in found if r is runs and n.split(".")[0] in packages}
            edges[module] = {n for n in inside if n and n != module}
        graph.external[module] = {n for n, _ in found if n and n.split(".")[0] not in packages}
    return graph


def find_cycle(edges: Mapping[str, set[str]]) -> list[str] | None:
    """One import cycle as a path from its first module by name (repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                loop = path[path.index(nxt):]
                first = loop.index(min(loop))
                return [*loop[first:], *loop[:first], loop[first]]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def upward_imports(graph: Graph, rules: Mapping[str, tuple[str, ...]]) -> list[str]:
    """"a imports b" for every import from a module under a prefix in ``rules`` of a module (or
    outside library) under one of the prefixes it forbids."""
    def under(name: str, prefix: str) -> bool:
        return name == prefix or name.startswith(prefix + ".")

    found = []
    for module in sorted(graph.files):
        for layer, forbidden in rules.items():
            if not under(module, layer):
                continue
            targets = graph.imports(module) | graph.external.get(module, set())
            found += [f"{module} imports {t}" for t in sorted(targets) if any(under(t, f) for f in forbidden)]
    return found


def private_imports(graph: Graph) -> list[str]:
    """"a takes b._x" for each `from b import _x` of a module of the tree: what another module
    shares should be public where it lives (an alias such as `import x as _x` is the importer's own)."""
    found = []
    for module, path in sorted(graph.files.items()):
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                base = _resolve(module, is_package, node.level, node.module)
                if base.split(".")[0] in {m.split(".")[0] for m in graph.files}:
                    found += [f"{module} takes {base}.{a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    return found
