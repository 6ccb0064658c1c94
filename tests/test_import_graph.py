"""How the project's packages import each other, read from the source with ast (nothing is imported).

Layers, lowest first: domain/ (the rules), ledger/ (the application), projections/ (read models),
api/ (the HTTP API), cli/ (the command line). A package imports only from the layers below it:
domain/ the standard library and eventsourcing's domain layer only, no database, no web framework;
ledger/ neither projections/ nor api/ nor cli/; projections/ neither api/ nor cli/; api/ not cli/.
These hold for every import, wherever it is written (inside a function, under TYPE_CHECKING too).

Inside the project, modules import each other without a loop: a loop means no module of it can be
understood, tested or loaded first alone. Checked twice, per folder: among the imports run when a
module is loaded (its top level, class bodies, `if`/`try` blocks), and again counting the imports
deferred into functions, which hide a loop rather than remove it. Imports under `if TYPE_CHECKING:`
never run and count in neither.
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("domain", "ledger", "projections", "api", "cli")
# For domain/: eventsourcing's aggregates, and orjson, a serializer (no I/O) that writes the
# bytes entry hashes are computed over (domain/journal.py canonical_json).
ALLOWED_THIRD_PARTY = {
    "eventsourcing.domain",
    "eventsourcing.utils",
    "orjson",
    # Pure checks of standard numbers, no I/O: IBAN and BIC (schwifty), ISO 11649 creditor references (stdnum).
    "schwifty",
    "schwifty.exceptions",
    "stdnum",
    "stdnum.iso7064",
}
FORBIDDEN = {  # folder: what it must not import, wherever the import is written
    "ledger": ("projections", "api", "cli"),
    "projections": ("api", "cli"),
    "api": ("cli",),
}

Import = tuple[int, str, tuple[str, ...]]  # line, module, names taken from it (`from module import names`)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(nodes: list[ast.stmt], *, deferred: bool, path: Path, type_checking: bool = False) -> Iterator[Import]:
    """The imports that run when the module is loaded; with `deferred`, also those inside functions;
    with `type_checking`, also those under `if TYPE_CHECKING:` (which never run)."""
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None, f"{path}:{node.lineno}: use absolute imports (domain.x)"
            yield node.lineno, node.module, tuple(alias.name for alias in node.names)
        elif isinstance(node, ast.If) and _is_type_checking(node.test) and not type_checking:
            yield from _imports(node.orelse, deferred=deferred, path=path)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not deferred:
            continue
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    yield from _imports(children, deferred=deferred, path=path, type_checking=type_checking)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every import in the file, wherever it is written, as (line, module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [(line, module) for line, module, _ in _imports(tree.body, deferred=True, path=path, type_checking=True)]


def allowed_in_domain(module: str) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "domain":
        return True
    return module in ALLOWED_THIRD_PARTY


def project_modules(root: Path = ROOT, folders: tuple[str, ...] = FOLDERS) -> dict[str, Path]:
    """Dotted name -> file, for every module of the project's packages (a package is its __init__)."""
    found = {}
    for folder in folders:
        for path in sorted((root / folder).glob("**/*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(modules: dict[str, Path], *, deferred: bool) -> dict[str, dict[str, int]]:
    """module -> {project module it imports: line}. `import a.b` loads a and a.b; `from a import b`
    loads a, and a.b too when b is a module."""
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module, names in _imports(tree.body, deferred=deferred, path=path):
            parts = module.split(".")
            loaded = [".".join(parts[:i]) for i in range(1, len(parts) + 1)] + [f"{module}.{n}" for n in names]
            for target in loaded:
                if target in modules and target != name:
                    edges.setdefault(target, line)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def one_loop(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    """A shortest loop through the component's first module, with the line of each import."""
    start, members = component[0], set(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier and start not in came_from:
        following = []
        for node in frontier:
            for target in sorted(graph[node]):
                if target in members and target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    path = [start]
    while len(path) == 1 or path[-1] != start:
        path.append(came_from[path[-1]])
    path.reverse()
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(path)) + f" -> {start}"


def cycle_report(graph: dict[str, dict[str, int]], folder: str) -> list[str]:
    return [
        f"{len(c)} modules import each other in a loop: {', '.join(c)}; e.g. {one_loop(graph, c)}"
        for c in cycles(graph)
        if any(m.split(".")[0] == folder for m in c)
    ]


MODULES = project_modules()


def test_domain_imports_only_the_standard_library_and_eventsourcing_domain():
    files = sorted((ROOT / "domain").glob("**/*.py"))
    assert len(files) >= 8, f"expected the domain modules under {ROOT / 'domain'}"
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in files
        for line, module in imported_modules(path)
        if not allowed_in_domain(module)
    ]
    assert offenders == []


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_each_layer_imports_only_the_layers_below_it(folder):
    files = sorted((ROOT / folder).glob("**/*.py"))
    assert files, f"expected modules under {ROOT / folder}"
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in files
        for line, module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN[folder]
    ]
    assert offenders == []


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_import_cycle_among_the_imports_run_on_loading(folder):
    assert any(name.split(".")[0] == folder for name in MODULES), f"no modules under {ROOT / folder}"
    assert cycle_report(import_graph(MODULES, deferred=False), folder) == []


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_import_cycle_even_through_imports_deferred_into_functions(folder):
    assert cycle_report(import_graph(MODULES, deferred=True), folder) == []


def test_the_checker_itself_flags_forbidden_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\nfrom datetime import date\nfrom eventsourcing.domain import Aggregate\n"
        "import sqlite3\n"  # stdlib, allowed: the rule is about third-party layers
        "from eventsourcing.postgres import PostgresDatastore\nimport psycopg\n"
        "def f():\n    from fastapi import FastAPI\n    from ledger.service import Ledger\n"
        "if TYPE_CHECKING:\n    from projections.runner import ProjectionRunner\n",
        encoding="utf-8",
    )
    bad = [m for _, m in imported_modules(sample) if not allowed_in_domain(m)]
    assert bad == ["eventsourcing.postgres", "psycopg", "fastapi", "ledger.service", "projections.runner"]


def test_the_checker_itself_finds_loops_and_skips_type_checking_imports(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    files = {
        "__init__.py": "",
        "a.py": "from pkg import b\n",  # a -> b (b is a module)
        "b.py": "import pkg.c\n",  # b -> pkg, pkg.c
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n"
        "else:\n    import json\nclass K:\n    from pkg.d import X\n",  # c -> d only: never runs the a import
        "d.py": "X = 1\ndef f():\n    from pkg.a import something\n",  # d -> a only when f runs
    }
    for name, text in files.items():
        (package / name).write_text(text, encoding="utf-8")
    modules = project_modules(tmp_path, ("pkg",))
    assert sorted(modules) == ["pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"]
    loaded = import_graph(modules, deferred=False)
    assert loaded == {
        "pkg": {},
        "pkg.a": {"pkg": 1, "pkg.b": 1},
        "pkg.b": {"pkg": 1, "pkg.c": 1},
        "pkg.c": {"pkg": 7, "pkg.d": 7},
        "pkg.d": {},
    }
    assert cycles(loaded) == []
    everything = import_graph(modules, deferred=True)
    assert cycles(everything) == [["pkg.a", "pkg.b", "pkg.c", "pkg.d"]]
    assert cycle_report(everything, "pkg") == [
        "4 modules import each other in a loop: pkg.a, pkg.b, pkg.c, pkg.d; e.g. pkg.a (line 1) -> pkg.b (line 1) "
        "-> pkg.c (line 7) -> pkg.d (line 3) -> pkg.a"
    ]
