"""The shape of the product code: small modules, short functions (docs/architecture.md).

A module over MAX_MODULE_LINES or a function over MAX_FUNCTION_LINES is telling us something:
it holds two ideas. The demo's data (ledger/demo*.py) is a list of commands and may run long in
one function only when it says why on the line above (`# long: ...`); nothing else is excused.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("domain", "ledger", "projections", "api", "cli")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 70


def _modules() -> list[Path]:
    return sorted(p for folder in PRODUCT if (ROOT / folder).is_dir() for p in (ROOT / folder).rglob("*.py"))


def _excused(lines: list[str], node: ast.AST) -> bool:
    above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""  # type: ignore[attr-defined]
    return above.startswith("# long:")


def test_no_module_is_over_the_limit():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, f"split these modules (lines): {long}"


def test_no_function_is_over_the_limit():
    long = {}
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if size > MAX_FUNCTION_LINES and not _excused(lines, node):
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = size
    assert long == {}, f"split these functions (lines): {long}"


def test_no_ticket_numbers_or_outside_documents_are_cited():
    """Comments say why, not which ticket; the rules the code relies on are in docs/, in the
    project's words (docs/rules.md), never in a document outside the repository."""
    import re

    stale = re.compile(r"\b[Ii]ssue \d+\b|DOMAIN-RULES|\.\./shared|/work/")
    found = []
    for path in [
        *_modules(),
        *sorted((ROOT / "docs").rglob("*.md")),
        ROOT / "README.md",
        *sorted((ROOT / "bench").rglob("*.py")),
    ]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if stale.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert found == [], "say the reason instead:\n" + "\n".join(found)
