"""The page a problem's `type` points to: `/problems/{rule}`, served by the API itself.

Every refusal is RFC 9457 problem+json whose `type` is `/problems/<rule>` (api/errors.py), a
reference relative to the API's own address, so a person who follows it reads what the rule is:
its meaning from the rule catalogue (domain/rule_catalogue.py, and the rules families declare),
then the passages of docs/rules.md that name it (the project's statement of its rules), when the
sources are installed beside the code. A name that is no rule (nor an HTTP status, the type of a
problem with no rule) is a 404. Not an operation of the OpenAPI document: a page for people, like /docs.
"""

from __future__ import annotations

import re
from functools import cache
from html import escape
from pathlib import Path as FilePath

from fastapi import FastAPI, Path
from fastapi.responses import HTMLResponse

from api.errors import PROBLEMS_PATH, ApiError, type_uri
from domain.family import rules

RULES_DOC = FilePath(__file__).resolve().parents[1] / "docs" / "rules.md"
RULE_NAME = r"^[a-z0-9_]{1,64}$"  # rule names, and HTTP statuses for problems with no rule
PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Problem: {name}</title></head>
<body>
<h1>Problem: <code>{name}</code></h1>
<p>An answer of the coopledger API with <code>"type": "{path}"</code> refused a request or could not serve it.
Its <code>detail</code> says what happened, <code>field</code> the request field at fault (when one is), and
<code>rule</code> this rule's name, stable for programs.</p>
{meaning}
{passages}
</body>
</html>
"""


@cache
def _passages(rule: str) -> tuple[tuple[str, str], ...]:
    """(section heading, text) of each paragraph or list item of docs/rules.md naming `rule`."""
    if not RULES_DOC.exists():  # installed without the project's sources
        return ()
    found, heading = [], ""
    for block in re.split(r"\n(?=- |\n|## )", RULES_DOC.read_text(encoding="utf-8")):
        block = block.strip()
        if block.startswith("## "):
            heading, _, block = block.partition("\n")
            heading = heading.removeprefix("## ")
        if f"`{rule}`" in block:
            text = " ".join(block.removeprefix("- ").split()).replace("**", "")  # Markdown's bold, not rendered here
            found.append((heading, text))
    return tuple(found)


def page(rule: str) -> str:
    meaning = rules().get(rule)
    said_once = f"<p><strong>{escape(meaning)}</strong></p>" if meaning else ""
    passages = _passages(rule)
    if passages:
        items = "\n".join(f"<li><em>{escape(heading)}</em>: {escape(text)}</li>" for heading, text in passages)
        said = f"<p>The project's rules (docs/rules.md) say:</p>\n<ul>\n{items}\n</ul>"
    else:
        said = "<p>A rule of the API itself (a key, a role, a rate limit, a request's form): the problem's detail says it.</p>"
    return PAGE.format(name=escape(rule), path=escape(type_uri(rule)), meaning=said_once, passages=said)


def install(app: FastAPI) -> None:
    @app.get(PROBLEMS_PATH + "/{rule}", include_in_schema=False)
    def problem_page(rule: str = Path(pattern=RULE_NAME)) -> HTMLResponse:
        # A name no rule could have is refused like any bad parameter (422 naming `rule`); a name
        # that could be one but is not, or a status no problem carries, is not found.
        if rule not in rules() and not (rule.isdigit() and 400 <= int(rule) <= 599):
            raise ApiError(404, "Not found", f"no rule {rule!r}: docs/problems.md lists them", field="rule", rule="known_rule")
        return HTMLResponse(page(rule), headers={"Cache-Control": "public, max-age=3600"})
