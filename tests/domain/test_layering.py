"""domain/ imports the standard library and eventsourcing's domain layer only: no database,
no web framework, nothing from ledger/, projections/ or api/."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED_THIRD_PARTY = {"eventsourcing.domain", "eventsourcing.utils"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno}: use absolute imports (domain.x)"
            assert node.module is not None
            found.append((node.lineno, node.module))
    return found


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "domain":
        return True
    return module in ALLOWED_THIRD_PARTY


def test_domain_imports_only_the_standard_library_and_eventsourcing_domain():
    files = sorted(DOMAIN.glob("**/*.py"))
    assert len(files) >= 8, f"expected the domain modules under {DOMAIN}"
    offenders = [
        f"{path.relative_to(DOMAIN.parent)}:{line}: {module}"
        for path in files
        for line, module in imported_modules(path)
        if not allowed(module)
    ]
    assert offenders == []


def test_the_checker_itself_flags_forbidden_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\nfrom datetime import date\nfrom eventsourcing.domain import Aggregate\n"
        "import sqlite3\n"  # stdlib, allowed: the rule is about third-party layers
        "from eventsourcing.postgres import PostgresDatastore\nimport psycopg\n"
        "def f():\n    from fastapi import FastAPI\n    from ledger.service import Ledger\n",
        encoding="utf-8",
    )
    bad = [m for _, m in imported_modules(sample) if not allowed(m)]
    assert bad == ["eventsourcing.postgres", "psycopg", "fastapi", "ledger.service"]
