"""docs/problems.md lists the rule catalogue (domain/rule_catalogue.py) as it is: every rule, in
order, with its meaning, and nothing else. After changing the catalogue, regenerate the table:
`PYTHONPATH=. .venv/bin/python -m tests.docs.test_problems_doc`."""

from __future__ import annotations

import re
from pathlib import Path

from domain.rule_catalogue import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "problems.md"
BEGIN = "<!-- rule table: generated from domain/rule_catalogue.py, do not edit by hand -->"
END = "<!-- end of the rule table -->"


def table() -> str:
    rows = ["| `{}` | {} |".format(rule, meaning.replace("|", "\\|")) for rule, meaning in RULES.items()]
    return "\n".join(["| rule | what it asks |", "|---|---|", *rows])


TABLE = re.compile(re.escape(BEGIN) + r"\n(.*?)\n?" + re.escape(END), flags=re.S)


def _written(text: str) -> str:
    found = TABLE.search(text)
    assert found, f"docs/problems.md lost its markers: {BEGIN} ... {END}"
    return found.group(1)


def test_the_documented_rules_are_the_catalogue() -> None:
    written = _written(DOC.read_text(encoding="utf-8"))
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", written, flags=re.M)
    assert documented == list(RULES), "regenerate the table: " + (__doc__ or "").split("table:")[-1].strip()
    assert written == table()


def test_the_table_would_show_a_rule_added_to_the_catalogue(monkeypatch) -> None:
    monkeypatch.setitem(RULES, "zz_new_rule", "a rule just added")
    assert table().endswith("| `zz_new_rule` | a rule just added |")


if __name__ == "__main__":
    text = DOC.read_text(encoding="utf-8")
    _written(text)  # the markers are there
    DOC.write_text(TABLE.sub(lambda _: f"{BEGIN}\n{table()}\n{END}", text), encoding="utf-8")
