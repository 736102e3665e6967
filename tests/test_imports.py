"""The package's modules import each other one way only: no module imports one that imports it back.

The import graph is read from the source with ``ast``: every ``import`` and ``from ... import`` of a
``workload`` module, at module level or inside a function (a deferred import is still a dependency), but
not those under ``if TYPE_CHECKING:``, which never run. ``from workload.x import name`` is an edge to
``workload.x.name`` when that is a module, else to ``workload.x``. Importing a submodule is not counted as
importing its parent package (Python runs the package's ``__init__`` first, but that is not a dependency
of the submodule on what the package re-exports).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "workload"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> list[str]:
    """Dotted names of everything ``tree`` imports (``from a import b`` gives ``a.b``), TYPE_CHECKING blocks left out."""
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.extend(f"{source}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``workload`` modules it imports."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {
            resolve(name)
            for name in _imported_names(tree, module, path.name == "__init__.py")
            if name == "workload" or name.startswith("workload.")
        }
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (``[a, b, ..., a]``), or None when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_is_read_as_the_code_imports() -> None:
    graph = import_graph()
    assert "workload.sweep" in graph["workload.cli"], "a deferred import inside a function counts"
    assert "workload.sweep.report" in graph["workload.sweep.run"]
    assert {"workload.disclosure", "workload.outcomes"} <= graph["workload.pipeline"], "from workload import module"
    assert "workload" in graph["workload.pipeline"], "from workload import __version__"
    assert "workload.pipeline" not in graph["workload"], "TYPE_CHECKING imports never run"
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_one_that_imports_it_back() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_sweep_package_is_split_by_concept_in_modules_of_readable_size() -> None:
    for path in sorted((PACKAGE / "sweep").glob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 600, f"{path.relative_to(REPO)} has {lines} lines"
