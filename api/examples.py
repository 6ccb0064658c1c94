"""Examples for the OpenAPI document, so a client sees a realistic body for every route.

Command bodies come from the demo (ledger/demo.py: the same French cooperatives, members and
amounts as `coopledger demo`), first use of each command; a command the demo does not use yet gets
one generated from its dataclass (`generated_body`), so a new command is documented the day it is
added. tests/api/test_openapi_examples.py checks that every operation has its examples, that they
validate against their own schemas and that `parse_command` accepts every command example.

A route that is not a command declares its success example with `ok(example)`:

    @r.get("/feed", summary="...", responses=ok({"coop": DEMO_COOP, "events": [...]}))
"""

from __future__ import annotations

import dataclasses
import re
import sys
import types
import typing
from datetime import date
from functools import lru_cache
from typing import Any

from domain.events import EVENT_CLASSES, FinancialEvent
from ledger.demo import demo_commands
from ledger.handlers import COMMANDS, HANDLERS

DEMO_COOP = "cluster-numerique-sud"
ENVELOPE = {"command", "idempotency_key", "actor", "coop"}

# Values for a generated body, by field name, in the demo's vocabulary; then by type.
FIELD_EXAMPLES: dict[str, Any] = {
    "member_id": "MED-02", "host_id": "MED-02", "author_id": "SAL-01", "structure_id": "BEN-01",
    "employee_id": "CN-01", "college": "medias", "name": "Radio Garrigue", "kind": "organisation",
    "year": 2025, "first_year": 2025, "years": 3, "shares": 10, "headcount": 8, "entry_number": 26,
    "pledge_id": "PL-ENT01", "call_id": "AAP-MEDIAS-2025", "application_id": "AAP25-01",
    "subsidy_id": "REG-OCC-AAP25", "sensor_id": "CAP-PM-01", "certification_id": "CERT-2025-001",
    "subscription_id": "SUB-ENT01", "plan_id": "PREST-M", "course_id": "FORM-DEM", "resolution_id": "AG-2026-01",
    "reason": "Décision du conseil d'administration du 12 mars 2026", "label": "Régularisation",
    "piece_ref": "F-2025-0042", "period": "2025-04", "public": True,
}
TYPE_EXAMPLES: dict[Any, Any] = {date: "2025-03-01", int: 1, bool: True, str: "exemple", Any: "100.00"}


def _value(name: str, tp: Any) -> Any:
    if name in FIELD_EXAMPLES:
        return FIELD_EXAMPLES[name]
    if dataclasses.is_dataclass(tp):
        return generated_body(tp)
    origin = typing.get_origin(tp)
    if origin is list:
        (inner,) = typing.get_args(tp)
        return [_value(name, inner)]
    if origin in (typing.Union, types.UnionType):
        return _value(name, next(a for a in typing.get_args(tp) if a is not type(None)))
    return TYPE_EXAMPLES.get(tp, f"{name.replace('_', '-')}-1")


def generated_body(cls: type) -> dict[str, Any]:
    """A body for `cls` built from its fields' names and types (optional fields left out)."""
    hints = typing.get_type_hints(cls)
    return {f.name: _value(f.name, hints[f.name]) for f in dataclasses.fields(cls)
            if f.name != "coop" and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}


@lru_cache(maxsize=1)
def _demo_firsts() -> dict[str, dict[str, Any]]:
    firsts: dict[str, dict[str, Any]] = {}
    for command in demo_commands():
        firsts.setdefault(command["command"], command)
    return firsts


def command_body(name: str) -> dict[str, Any]:
    """The example body of command `name` (without `coop`, which is in the path)."""
    demo = _demo_firsts().get(name)
    if demo is not None:
        return {k: v for k, v in demo.items() if k not in ENVELOPE}
    return generated_body(COMMANDS[name])


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _deciders(cls: type) -> list[Any]:
    """The decider of `cls`: its HANDLERS entry, the function of its module named after it, or
    (special commands) every function of its module whose `cmd` parameter is a `cls`."""
    module = sys.modules[cls.__module__]
    named = HANDLERS.get(cls) or getattr(module, _snake(cls.__name__), None)
    if named is not None:
        return [named]
    return [f for f in vars(module).values()
            if isinstance(f, types.FunctionType) and f.__annotations__.get("cmd") in (cls, cls.__name__)]


def events_of(name: str) -> list[str]:
    """The events command `name` records, as named in its decider's code (a documentation aid:
    the examples test checks them against what the demo really recorded)."""
    found: list[str] = []
    for decider in _deciders(COMMANDS[name]):
        names = list(dict.fromkeys(decider.__code__.co_names))
        # An event named directly (FeePaid), or as an attribute of a class the decider uses (Cooperative.Created).
        used = [decider.__globals__[n] for n in names if isinstance(decider.__globals__.get(n), type)]
        for n in names:
            for event in (EVENT_CLASSES.get(n), *(getattr(c, n, None) for c in used)):
                if isinstance(event, type) and event in EVENT_CLASSES.values() and event.__name__ not in found:
                    found.append(event.__name__)
    return found


def command_accepted(name: str) -> dict[str, Any]:
    """A CommandAccepted response for `name`, as the API returns it."""
    demo = _demo_firsts().get(name, {})
    events = events_of(name)
    financial = [e for e in events if issubclass(EVENT_CLASSES[e], FinancialEvent)]
    return {"coop": demo.get("coop", DEMO_COOP), "command": name,
            "idempotency_key": demo.get("idempotency_key", f"{_snake(name).replace('_', '-')}-2026-0001"),
            "position": 1042, "journal_numbers": [57] if financial else [], "events": events}


def command_examples(name: str) -> dict[str, dict[str, Any]]:
    """`openapi_examples` for a command's body."""
    source = "from the demo" if name in _demo_firsts() else "generated from the command's fields"
    return {"demo": {"summary": f"{name} ({source})", "value": command_body(name)}}


def ok(example: Any, status: int = 200, description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: its success status with this JSON example."""
    entry: dict[str, Any] = {"content": {"application/json": {"example": example}}}
    if description:
        entry["description"] = description
    return {status: entry}


def batch_body() -> dict[str, Any]:
    """A batch as a sensor gateway sends it: a day of readings from two sensors, then a fee payment."""
    readings = [c for c in demo_commands() if c["command"] == "AcceptReadings"][:2]
    pay = _demo_firsts()["PayFee"]
    return {"commands": [{"command": c["command"], "idempotency_key": c["idempotency_key"],
                          "fields": {k: v for k, v in c.items() if k not in ENVELOPE}} for c in (*readings, pay)]}


def batch_result() -> dict[str, Any]:
    body = batch_body()["commands"]
    first = {**command_accepted(body[0]["command"]), "idempotency_key": body[0]["idempotency_key"], "accepted": True,
             "duplicate": False}
    second = {**first, "idempotency_key": body[1]["idempotency_key"], "position": 1043, "journal_numbers": [58]}
    refused = {"accepted": False, "coop": DEMO_COOP, "command": body[2]["command"], "idempotency_key": body[2]["idempotency_key"],
               "error": {"kind": "forbidden", "field": "command", "rule": "role_command", "message": "role clerk may not send PayFee"}}
    return {"results": [first, second, refused], "accepted": 2, "refused": 1}


# ---------------------------------------------------------------- reads
# Answers of the demo's books (`coopledger demo`), lists cut to a few rows. The examples test
# checks each has the keys and JSON types of the live answer, so a changed read shows here.

_COOP = {"coop": DEMO_COOP}
_TALLY_COLLEGE = {"code": "entreprises", "for": 2, "against": 0, "abstain": 0, "blank": 0, "cast": 2, "share_for": "1",
                  "weight_used": "100/3", "contribution": "1/3", "carried": True}
_MEMBER = {**_COOP, "member_id": "MED-01", "name": "Le Petit Écho du Littoral", "kind": "organisation", "college": "medias",
           "status": "active", "admitted_on": "2025-01-20", "left_on": None, "shares": 0, "year": 2025,
           "fee_called_cents": 30000, "fee_paid_cents": 30000, "in_good_standing": True, "fully_paid_on": "2025-07-14"}

READS: dict[str, Any] = {
    "coop_summary": {
        **_COOP, "name": "Cluster Numérique Sud", "legal_form": "association", "siren": "912345675", "founded_on": "2025-01-15",
        "fiscal_year_start_month": 1, "share_value_cents": None,
        "colleges": [{"code": "medias", "name": "Médias", "weight": "40"},
                     {"code": "entreprises", "name": "Entreprises associées", "weight": "20"}],
        "fee_schedule": [{"min_headcount": 1, "max_headcount": 9, "amount_cents": 10000},
                         {"min_headcount": 250, "max_headcount": None, "amount_cents": 150000}],
        "members": 12, "active_members": 11, "journal_entries": 177},
    "trial_balance": {**_COOP, "as_of": "2025-12-31", "accounts": [
        {"account": "411", "label_fr": "Usagers, adhérents", "label_en": "Customers, members", "unit": "EUR",
         "debit": 1088385, "credit": 1018245, "balance": 70140},
        {"account": "512", "label_fr": "Banque", "label_en": "Bank", "unit": "EUR", "debit": 9018245, "credit": 5065160,
         "balance": 3953085}],
        "totals": {"CREDIT": {"debit": 6489, "credit": 6489}, "EUR": {"debit": 54356790, "credit": 54356790}}},
    "balance": {**_COOP, "account": "411", "party": "MED-01", "unit": "EUR", "as_of": "2025-12-31", "balance_minor": 0},
    "statement": {**_COOP, "account": "411", "party": "MED-01", "unit": "EUR", "as_of": None, "lines": [
        {"effective_date": "2025-02-01", "number": 1, "label": "Cotisation 2025 – Le Petit Écho du Littoral", "party": "MED-01",
         "debit": 30000, "credit": 0, "balance": 30000},
        {"effective_date": "2025-07-14", "number": 17, "label": "Règlement cotisation 2025 – Le Petit Écho du Littoral",
         "party": "MED-01", "debit": 0, "credit": 30000, "balance": 0}], "total_lines": 4, "closing_balance": 0},
    "journal": {**_COOP, "entries": [
        {"number": 1, "kind": "FeeCalled", "effective_date": "2025-02-01", "recorded_at": "2025-02-01T09:14:03.299742+00:00",
         "label": "Cotisation 2025 – Le Petit Écho du Littoral", "actor": "key:3f9a0c2b7d41", "idempotency_key": "demo-0014",
         "reverses": None, "reversed_by": None,
         "chain_hash": "435bfe9270ff79b180a4237bf3ad988edda932c011a4c6dba1472b1dceef7e24", "position": 27,
         "postings": [{"account": "411", "party": "MED-01", "unit": "EUR", "amount": 30000},
                      {"account": "7561", "party": None, "unit": "EUR", "amount": -30000}]}], "next_after": 1},
    "members": {**_COOP, "year": 2025, "members": [_MEMBER]},
    "standing": {k: _MEMBER[k] for k in ("coop", "member_id", "college", "status", "year", "fee_called_cents",
                                          "fee_paid_cents", "in_good_standing", "fully_paid_on")},
    "governance": {
        **_COOP, "as_of": "2025-12-31", "legal_form": "association", "statutes_since": "2025-01-15",
        "policy": {"effective_date": "2025-01-15", "require_fee_paid": True, "min_shares": 0, "empty_college_policy": "redistribute"},
        "fee_year": 2025, "colleges": [
            {"code": "medias", "name": "Médias", "statutory_weight": "40", "members": 5, "eligible_members": 5,
             "effective_weight": "40", "member_weight": "8"},
            {"code": "entreprises", "name": "Entreprises associées", "statutory_weight": "20", "members": 3,
             "eligible_members": 3, "effective_weight": "20", "member_weight": "20/3"}],
        "unassigned_weight": "0", "flags": [],
        "voters": [{"member_id": "ENT-01", "name": "Nuage Occitan SAS", "college": "entreprises", "vote_weight": "20/3"},
                   {"member_id": "MED-01", "name": "Le Petit Écho du Littoral", "college": "medias", "vote_weight": "8"}],
        "voters_total_weight": "100"},
    "explanation": {
        **_COOP, "as_of": "2025-12-31", "name": "Le Petit Écho du Littoral", "member_id": "MED-01", "college": "medias",
        "eligible": True, "reasons": [{"rule": "admitted", "ok": True, "detail": "admitted on 2025-01-20"},
                                      {"rule": "fee_paid", "ok": True, "detail": "2025 fee: 300.00 of 300.00 EUR paid by 2025-12-31"}]},
    "tally": {
        **_COOP, "resolution_id": "AG-2026-01", "title": "Approbation des comptes 2025", "assembly": "ordinary",
        "vote_date": "2026-06-30", "threshold": "1/2", "strict": True, "adopted": True, "result": "2/3", "result_percent": "66.67",
        "carried_by": ["entreprises"], "colleges": [_TALLY_COLLEGE]},
    "certified": {**_COOP, "on": "2025-12-31", "certified": [
        {**_COOP, "certification_id": "CERT-2025-001", "member_id": "ENT-01", "granted_on": "2025-03-15",
         "expires_on": "2027-03-15", "valid_until": "2027-03-14", "revoked_on": None, "revocation_reason": None,
         "ends_on": "2027-03-15", "renewals": 0, "billed_cents": 45000, "paid_cents": 45000, "due_cents": 0}]},
    "calls": {**_COOP, "calls": [
        {**_COOP, "call_id": "AAP-MEDIAS-2025", "title": "Appel à projets Médias de proximité 2025",
         "source": "subsidy:REG-OCC-AAP25", "status": "open", "envelope_cents": 10000000, "min_award_cents": 500000,
         "max_award_cents": 1000000, "max_laureates": 20, "members_only": False, "opened_on": "2025-04-01", "closed_on": None,
         "applications": 14, "laureates": 12, "awarded_cents": 9300000, "paid_cents": 7575000, "remaining_cents": 700000,
         "outstanding_cents": 1725000}]},
    "fund": {**_COOP, "as_of": None, "contributions_called_cents": 4674964, "received_cents": 4674964,
             "balance_cents": 2724964, "committed_cents": 0, "available_cents": 2724964, "reserved_cents": 0,
             "awarded_cents": 1950000, "paid_cents": 1950000, "unspent_cents": 2724964},
    "subsidies": {**_COOP, "subsidies": [
        {**_COOP, "subsidy_id": "REG-OCC-AAP25", "funder": "Région Occitanie", "purpose": "Appel à projets Médias de proximité 2025",
         "granted_on": "2025-03-14", "granted_cents": 10000000, "received_cents": 8000000, "to_receive_cents": 2000000,
         "used_cents": 0, "awarded_cents": 9300000, "grants_paid_cents": 7575000, "reserved_cents": 700000,
         "unspent_cents": 700000, "available_cents": 0}]},
    "credits": {**_COOP, "hosts": [
        {"host_id": "MED-02", "sensors": 2, "earned_minor": 1400, "redeemed_service_minor": 0, "redeemed_money_minor": 1000,
         "paid_cents": 500, "balance_minor": 400}],
        "summary": {**_COOP, "sensors": 5, "hosts": 4, "readings": 67641, "issued_minor": 6601, "redeemed_service_minor": 1200,
                    "redeemed_money_minor": 2200, "outstanding_minor": 3201, "paid_cents": 1100}},
    "hours": {"coop": "mednum-scic", "period": "2025-04", "structures": [
        {"structure_id": "BEN-01", "logged_minutes": 1260, "rebilled_minutes": 1260, "billed_cents": 46629, "to_rebill_minutes": 0}]},
    "health": {"status": "ok", "position": 736, "projected": 736, "projection_error": None},
}


def read(name: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a read route: 200 with the demo's answer `READS[name]`."""
    return ok(READS[name])
