"""The package's shape: no import cycle among colorcourse's modules, no product source file over
600 lines (the course is read as well as run: a module a student can hold in their head)."""

from __future__ import annotations

import ast
from pathlib import Path

from colorcourse.paths import repo_root

MAX_LINES = 600
PRODUCT_DIRS = ("colorcourse", "data_scripts", "benchmarks")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_modules(root: Path, package: str = "colorcourse") -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}


def imported_modules(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``path`` imports anywhere in its body.

    Function-level (lazy) imports count too: a lazy import still makes the module depend on
    the other one, and both cycles this test was written for hid on one side behind one.
    ``from pkg import name`` counts as importing ``pkg.name`` when that is a module, else ``pkg``.
    A module's implicit import of its parent packages does not count (Python's own machinery,
    not a dependency the author wrote).
    """
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            # "import colorcourse.fusion.model" names the module itself; keep the longest known prefix
            parts = target.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts and ".".join(parts) != name:
                found.add(".".join(parts))
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    modules = package_modules(root)
    return {name: imported_modules(path, name, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of module names (first == last), or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_a_lazy_import_cycle_and_passes_a_chain(tmp_path):
    pkg = tmp_path / "colorcourse"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from colorcourse.sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import g\n")
    (pkg / "c.py").write_text("import os\n")
    graph = import_graph(tmp_path)
    assert graph["colorcourse.a"] == {"colorcourse.sub.b"}
    assert graph["colorcourse.sub.b"] == {"colorcourse.c"}
    assert find_cycle(graph) is None
    (pkg / "c.py").write_text("def h():\n    import colorcourse.a as a\n")  # lazy, and it closes the loop
    cycle = find_cycle(import_graph(tmp_path))
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {"colorcourse.a", "colorcourse.sub.b", "colorcourse.c"}


def test_the_package_has_no_import_cycle():
    graph = import_graph(repo_root())
    assert "colorcourse.fusion.model" in graph and graph["colorcourse.fusion.train"]  # the graph was read
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_product_source_file_is_over_600_lines():
    root = repo_root()
    too_long = {}
    for folder in PRODUCT_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                too_long[str(path.relative_to(root))] = lines
    assert not too_long, f"over {MAX_LINES} lines: {too_long}"
