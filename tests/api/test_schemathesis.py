"""schemathesis drives every operation of the live OpenAPI document with a key of each role, on
both stores, and every answer must be one the document promises.

The checks are schemathesis's full default set (the installed 4.x registers and enables these 14):
not_a_server_error, status_code_conformance, content_type_conformance,
response_headers_conformance, response_schema_conformance, negative_data_rejection,
positive_data_acceptance, missing_required_header, unsupported_method, allow_header_conformance,
use_after_free, ensure_resource_availability, ignored_auth, object_level_authorization. One is
narrowed, by a check that wraps it (`positive_data_accepted` below): a request the document allows
may still break a rule of the cooperative's state or one joining several fields, which no JSON
schema can say; the API then answers the documented 422 naming the field and the rule, and only the
rules listed in RULES_NO_SCHEMA_CAN_SAY, or for some fields only in FIELD_RULES_NO_SCHEMA_CAN_SAY
(each with why), pass. Any other refusal of schema-valid data is a finding: the document must say
the rule (a pattern, an enum, a range) or the API must accept.

use_after_free, ensure_resource_availability and object_level_authorization judge a sequence of
requests (a resource created, then deleted, then read; one identity's object read by another):
called on single requests, as here, they find nothing to judge. missing_required_header,
unsupported_method and allow_header_conformance judge schemathesis's coverage cases (a required
header left out, a method the path does not serve, a body of another media type): those are sent
for the first operation of each tag (generating them costs about a second per operation).

Per operation: generated valid requests (POSITIVE_EXAMPLES) and invalid ones (NEGATIVE_EXAMPLES)
with the key of the first role allowed; the first valid request again with the key of every other
role (a role not allowed must get the documented 403); and the coverage cases above. Responses are
validated against the document as served, so once a route declares its response model,
response_schema_conformance checks its answers field by field.

schemathesis's own pytest integration relies on a pytest internal that pytest 9 removed, so each
operation's cases run through hypothesis here, derandomized, with a bounded number of examples.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import CoverageScenario

from api.app import create_app
from api.deps import route_access
from api.keys import create_key
from api.roles import ROLES
from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.fees import CallFee
from domain.membership import AdmitMember
from ledger.store import StoreConfig
from tests.conftest import migrates_the_store

COOP = "fuzz"
POSITIVE_EXAMPLES = 3  # per operation, with the first allowed role's key
NEGATIVE_EXAMPLES = 2
# The coverage cases sent (for the first operation of each tag): the ones the coverage-only checks judge.
COVERAGE_SCENARIOS = (
    CoverageScenario.MISSING_PARAMETER,  # missing_required_header (Idempotency-Key, Authorization)
    CoverageScenario.UNSPECIFIED_HTTP_METHOD,  # unsupported_method, allow_header_conformance
    CoverageScenario.MALFORMED_CONTENT_TYPE,
    CoverageScenario.UNSUPPORTED_CONTENT_TYPE,
)

# Rules the API may apply to a request its document allows, because no JSON schema can say them:
# they depend on what the cooperative holds, or join several fields (or a header and a field).
RULES_NO_SCHEMA_CAN_SAY = {
    "not_before_founding": "a date before the cooperative's founding: depends on the cooperative",
    "has_capital": "capital shares exist only for cooperative forms with capital: depends on the cooperative",
    "creditor_identifier_set": "direct debits need the cooperative's SEPA creditor identifier, set by a command first",
    "earmarked_purpose": "an earmarked gift funds only its purpose: depends on the gift recorded",
    "below_gross": "a platform's fee must be less than the amount collected: two fields together",
    "award_bounds": "a call's maximum award must not be below its minimum: two fields together",
    "one_reason": "X-Reason must repeat the body's own reason field when the command has one: header and body together",
    "year_or_dates": "a year, or start/end dates, not both: several query parameters together",
    "fiscal_year_ended": "a fiscal year closes once it has ended: depends on the cooperative's calendar and today",
    "no_basis": "a cooperative not eligible for tax receipts has no basis: two fields together",
    "basis_fits_legal_form": "a tax-receipt basis fits some legal forms only: depends on the cooperative",
    "one_purpose": "a gift is earmarked for a project or for a call, not both: two fields together",
    "period_end": "a contract's period ends on the last day of a month: 28 to 31 days, by month and year",
    "fiscal_year_closed": "a date in a fiscal year already closed: depends on the cooperative's books",
    "members_placed": "statutes may not abolish a college that still holds members: depends on the cooperative",
    "receipt_eligibility": "tax receipts need a declared eligibility: depends on the cooperative",
    "minimum_rate_set": "a shared employee's pay needs the ethical minimum rate set first: depends on the cooperative",
    "within_gross": "a crowdfunding payout's backers give no more than the amount collected: several fields together",
    "flat_rate_plan": "a project holder's plan has no revenue rate: two fields together",
    "public_destination": "a webhook's host must resolve to an address the server may send to: depends on the network",
    "period_start": "a contract starts on the first day of its period (month, quarter, year): two fields together",
    # The document states an IBAN's and a creditor identifier's form (a pattern): only their check
    # digits remain, a sum over the whole value no pattern can say.
    "valid_iban": "an IBAN's check digits: the pattern states its form, only the check digits remain",
    "creditor_id": "a SEPA creditor identifier's check digits: the pattern states its form, only the check digits remain",
}
# The same, for a rule that no schema can say for these fields only (elsewhere the document says it:
# "required" of a text is its pattern), by field and rule.
FIELD_RULES_NO_SCHEMA_CAN_SAY = {
    ("share_value", "required"): "a cooperative form with capital needs a share value: two fields together",
    ("declared_revenue", "required"): "a provider's plan bills a share of declared revenue: depends on the plan",
    ("applicant", "required"): "a non-member applicant needs a name: depends on the call and the member",
    ("reference", "required"): "some tax-receipt bases need a reference: two fields together",
    ("mission", "required"): "a tax receipt prints the mission when eligible: two fields together",
    ("address", "required"): "a tax receipt prints the address when eligible: two fields together",
    ("max_headcount", "required"): "only the last fee bracket may be open-ended: the bracket's place in the list",
    ("project", "required"): "an earmarked gift names a project or a call_id: two fields together",
    ("basis", "known_basis"): "an eligible organisation names its basis (none when not eligible): two fields together",
    (
        "threshold",
        "majority",
    ): "a fraction's numerator is at least half its denominator: two numbers together (the pattern states a decimal's bound)",
}

# Bodies schemathesis cannot write (a bank statement as OFX): sent as CSV and CAMT.053 instead.
UNSERIALIZABLE = {"application/x-ofx"}

_KEYS = itertools.count()


@pytest.fixture
@migrates_the_store
def api(store_url: str) -> Iterator[dict[str, Any]]:
    """One app and one seeded store per store kind, with a key of every role made once."""
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app):
        ledger = app.state.services.ledger
        colleges = [CollegeSpec("a", "A", "50"), CollegeSpec("b", "B", "50")]
        found = FoundCooperative(COOP, "Fuzz", "association", date(2025, 1, 1), colleges, [FeeBracket(1, None, Decimal("10"))])
        ledger.execute(found, "f1")
        ledger.execute(AdmitMember(COOP, "m1", "M", "person", "a", date(2025, 1, 2)), "f2")
        ledger.execute(CallFee(COOP, "m1", 2025, date(2025, 1, 2)), "f3")
        tokens = {role: create_key(ledger.db, role=role, coops=[COOP])[1] for role in ROLES}
        yield {"schema": schemathesis.openapi.from_asgi("/openapi.json", app), "tokens": tokens, "roles": _roles(app)}


def _roles(app: Any) -> dict[tuple[str, str], list[str]]:
    """The roles each /v1 operation allows, as its route declares them (api/deps.py), in ROLES order."""
    allowed = {}
    for rc in iter_route_contexts(app.routes):
        if (rc.path or "").startswith("/v1/"):
            roles = set().union(*(access.roles() for access in route_access(rc)))
            for method in rc.methods:
                allowed[(method.upper(), rc.path)] = [role for role in ROLES if role in roles]
    return allowed


def positive_data_accepted(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """positive_data_acceptance, but a documented 422 for a rule in RULES_NO_SCHEMA_CAN_SAY (or for
    a field and rule in FIELD_RULES_NO_SCHEMA_CAN_SAY) passes: see the module's docstring."""
    if response.status_code == 422:
        problem = response.json() or {}
        field = re.sub(r"\[[0-9]+\]", "", str(problem.get("field"))).rsplit(".", 1)[-1]  # lines[2].amount: amount
        rule = problem.get("rule")
        if rule in RULES_NO_SCHEMA_CAN_SAY or (field, rule) in FIELD_RULES_NO_SCHEMA_CAN_SAY:
            return None
    return schemathesis.checks.positive_data_acceptance(ctx, response, case)


def _send(case: schemathesis.Case, token: str | None) -> None:
    """Sends the case with this key (none: as generated) and runs every default check on the answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    if case.meta is not None and case.meta.generation.mode.is_positive and "Idempotency-Key" in (case.headers or {}):
        # A fresh key for every valid command, so each reaches the rules instead of a 409 replay check.
        case.headers["Idempotency-Key"] = f"fuzz-{next(_KEYS)}"
    case.call_and_validate(
        headers=headers,
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
        additional_checks=[positive_data_accepted],
    )


def _fixed(operation: Any) -> dict[str, Any]:
    """What is not generated: the seeded cooperative, and min_position 0 (a position beyond the log
    is answered 503 after a 2 s wait, by design, tested in test_api.py)."""
    fixed: dict[str, Any] = {"path_parameters": {"coop": COOP}} if "{coop}" in operation.path else {}
    if any(p.name == "min_position" for p in operation.query):
        fixed["query"] = {"min_position": 0}
    return fixed


def _fuzz(operation: Any, mode: GenerationMode, examples: int, tokens: list[str | None]) -> None:
    """`examples` generated cases of this mode with the first token; the first case with every token."""
    sent = itertools.count()
    try:
        strategy = operation.as_strategy(generation_mode=mode, **_fixed(operation))
    except Unsatisfiable:
        return  # nothing to negate (no parameter, no body): nothing invalid can be sent

    @given(case=strategy)
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        for token in tokens if next(sent) == 0 else tokens[:1]:
            _send(case, token)

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise


def _coverage(schema: Any, operation: Any, token: str | None) -> None:
    """The first coverage case of each scenario in COVERAGE_SCENARIOS (and each header left out)."""
    seen = set()
    config = schema.config.generation_for(operation=operation, phase="coverage")
    for case in schema.iter_coverage_cases(operation, generation_modes=list(GenerationMode), generation_config=config):
        data = case.meta.phase.data
        if case.media_type in UNSERIALIZABLE:
            continue
        if data.scenario not in COVERAGE_SCENARIOS or (data.scenario, data.parameter) in seen:
            continue
        seen.add((data.scenario, data.parameter))
        if "{coop}" in operation.path:
            case.path_parameters = {**(case.path_parameters or {}), "coop": COOP}
        # The key is left out only where the case is about leaving it out.
        keyless = data.scenario is CoverageScenario.MISSING_PARAMETER and (data.parameter or "").lower() == "authorization"
        _send(case, None if keyless else token)


def test_every_operation_with_every_role_answers_as_documented(api: dict[str, Any]) -> None:
    schema, tokens = api["schema"], api["tokens"]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    covered_tags: set[str] = set()
    for operation in operations:
        allowed = api["roles"].get((operation.method.upper(), operation.path))
        if allowed is None:  # outside /v1 (/health): no key needed, none sent
            order: list[str | None] = [None]
        else:
            assert allowed, f"{operation.label} allows no role"
            order = [tokens[role] for role in allowed] + [tokens[role] for role in ROLES if role not in allowed]
        _fuzz(operation, GenerationMode.POSITIVE, POSITIVE_EXAMPLES, order)
        _fuzz(operation, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, order[:1])
        # Coverage cases cost a second or so of generation per operation: sent for the first
        # operation of each tag, whose routes share their router, dependencies and error handlers.
        tag = (operation.tags or ["untagged"])[0]
        if tag not in covered_tags:
            covered_tags.add(tag)
            _coverage(schema, operation, order[0])
    assert len(covered_tags) >= 10
