"""The rule of a problem, as the OpenAPI document publishes it: an enum of the rule catalogue.

Generated clients get a union type of the rules (ProblemRule), not a free string, and
domain/rule_catalogue.py says what each one means (a family outside the package declares its own
rules: domain/family.py). A problem built with a rule outside them is a bug (a rule raised without
its line in the catalogue): `checked_rule` logs it and, under the tests (STRICT), fails, while in
service the client still gets its refusal, not a 500.
"""

from __future__ import annotations

from enum import StrEnum

import structlog
from pydantic import BaseModel, Field

from domain.family import rules
from domain.rule_catalogue import RULES

log = structlog.get_logger("coopledger.api")

# The shipped catalogue; the OpenAPI document lists the rules of families outside the package too
# (api/openapi_doc.py), registered by the time it is built.
ProblemRule = StrEnum("ProblemRule", [(rule, rule) for rule in RULES])  # type: ignore[misc]
ProblemRule.__doc__ = "The rule a refusal names, stable for programs; docs/problems.md says what each one asks."

STRICT = False  # tests/conftest.py sets it: an uncatalogued rule then fails the request under test


class UncataloguedRule(AssertionError):
    """A problem names a rule the catalogue does not hold."""


def checked_rule(rule: str | None) -> str | None:
    """The rule, once checked against the catalogue (a dictionary lookup per refusal)."""
    if rule is not None and rule not in rules():
        log.error("uncatalogued_rule", rule=rule)
        if STRICT:
            raise UncataloguedRule(f"{rule!r} is not in domain/rule_catalogue.py")
    return rule


class ProblemError(BaseModel):
    """One error of an invalid request."""

    field: str = Field(description="The request field at fault ('body' for the whole body).")
    rule: ProblemRule = Field(description="The rule it broke.")
    message: str = Field(description="What is wrong, for a person.")
