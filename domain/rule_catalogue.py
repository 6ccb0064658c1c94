"""The published catalogue of rules: every `rule` a refusal names, with what it asks, in words.

A problem the API answers (RFC 9457 problem+json, api/errors.py) names the rule the request broke,
and so does each item of its `errors`; a refusal the command line prints names it too. The rule is
a stable snake_case code for programs: the OpenAPI document declares it as this list (the
ProblemRule enum), docs/problems.md lists it with the meanings, and tests/test_rule_catalogue.py
reads the source to prove that no rule is raised outside the catalogue and that every rule in it is
raised somewhere.

A new rule: raise it as a literal string (so the test can read it), add its line to the part of its
first letter, in order, and regenerate the table of docs/problems.md (the test says how).

It lives in domain/ because most rules are the domain's and a list of strings imports nothing:
ledger/, api/ and the command line read it without an import going up the layers.
"""

from __future__ import annotations

import re

from domain.rule_catalogue_a_k import RULES_A_K
from domain.rule_catalogue_l_z import RULES_L_Z

RULES: dict[str, str] = dict(sorted({**RULES_A_K, **RULES_L_Z}.items()))

# The error types of request validation (pydantic's, for a body, a query or a command's fields)
# passed on as rules as they are, so that a client can tell a missing field from a text too long.
# Any other type is answered as FALLBACK_RULE, the message saying what is wrong: the set of types
# grows with each pydantic release, and a published rule must not appear unannounced.
VALIDATION_TYPES = frozenset(
    {
        "bool_parsing",
        "bool_type",
        "dataclass_type",
        "date_from_datetime_inexact",
        "date_from_datetime_parsing",
        "date_parsing",
        "date_type",
        "dict_type",
        "enum",
        "extra_forbidden",
        "greater_than",
        "greater_than_equal",
        "int_from_float",
        "int_parsing",
        "int_type",
        "json_invalid",
        "less_than",
        "less_than_equal",
        "list_type",
        "literal_error",
        "missing",
        "model_type",
        "string_pattern_mismatch",
        "string_too_long",
        "string_too_short",
        "string_type",
        "too_long",
        "too_short",
        "value_error",
    }
)
FALLBACK_RULE = "invalid"


def validation_rule(error_type: str) -> str:
    """The rule a validation error of this type is answered with: the type itself when catalogued
    (one of VALIDATION_TYPES, or a rule the API's own validators raise, such as `decimal`), else
    FALLBACK_RULE."""
    return error_type if error_type in RULES else FALLBACK_RULE


def is_rule_name(name: str) -> bool:
    """A stable snake_case code: lower-case words of letters and digits joined by '_'."""
    return re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name) is not None
