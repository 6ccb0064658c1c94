"""The fact catalogue (pure): every event has a documented kind, entries are the events that carry
one, every role has a feed access, and a reader's view holds no personal data."""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import UTC, date, datetime
from pathlib import Path

import domain
from api.roles import READ_ROLES, ROLES
from domain.donations import CrowdfundingPayoutReceived
from domain.events import EVENT_CLASSES, FinancialEvent
from domain.family import facts
from domain.fees import FeePaid
from domain.membership import MemberAdmitted
from projections.feed import FEED_ACCESS, GROUPS, PERSONAL_FIELDS, fact_from_event, kind_groups, view

for _module in pkgutil.iter_modules(domain.__path__):  # every family registers its events on import
    importlib.import_module(f"domain.{_module.name}")

FACT_KINDS = {name: (fact.kind, fact.group) for name, fact in facts().items()}
KINDS = kind_groups()
# who was forgotten, and why; members' mandates (their IBANs) and the batches collected on them;
# bank lines with their payers' names and IBANs; a donor's name, address and yearly gifts: for
# admins and auditors only
RESTRICTED_KINDS = {
    "person.forgotten",
    "mandate.recorded",
    "mandate.revoked",
    "direct_debit_batch.issued",
    "direct_debit_batch.collected",
    "bank_statement.imported",
    "bank_line.matched",
    "tax_receipt.issued",
    "tax_receipt.cancelled",
}
DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def test_every_event_has_one_kind_and_entries_are_exactly_the_financial_events():
    missing = set(EVENT_CLASSES) - set(FACT_KINDS)
    assert not missing, f"declare {missing} in their family's `events` (domain/family.py) and in docs/webhooks.md"
    assert len(KINDS) == len(FACT_KINDS)  # no two events share a kind
    for name, (kind, group) in FACT_KINDS.items():
        if name not in EVENT_CLASSES:
            continue  # an event of a family not in this checkout
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", kind), kind
        # restricted: undeclared events, and the few declared for admins and auditors only
        assert group in GROUPS and (group != "restricted" or kind in RESTRICTED_KINDS), kind
        assert (group == "entries") == issubclass(EVENT_CLASSES[name], FinancialEvent), name


def test_every_kind_is_documented_and_every_role_has_an_access():
    text = DOC.read_text(encoding="utf-8")
    assert [k for k in KINDS if f"`{k}`" not in text] == []
    assert set(FEED_ACCESS) == set(ROLES) and READ_ROLES["feed"] == set(ROLES)
    assert READ_ROLES["webhooks"] == {"admin"}
    assert "membership" in KINDS.values() and "membership" not in FEED_ACCESS["reader"].groups


def _event(cls, **fields):
    """An event object as decoding makes it (no __init__), for a pure mapping test."""
    event = cls.__new__(cls)
    base = {
        "originator_id": None,
        "originator_version": 3,
        "timestamp": datetime(2025, 3, 1, tzinfo=UTC),
        "coop": "c",
        "effective_date": date(2025, 3, 1),
        "actor": "Marie Dupont",
        "idempotency_key": "bank-1",
    }
    event.__dict__.update({**base, **fields})
    return event


def test_reader_view_has_no_names_labels_or_actor_but_keeps_the_entry():
    paid = _event(
        FeePaid,
        member_id="m1",
        year=2025,
        amount_cents=4000,
        journal_number=7,
        label="Règlement cotisation 2025 – Alice Martin",
        chain_hash="ab",
        postings=[["512", None, "EUR", 4000], ["411", "m1", "EUR", -4000]],
    )
    kind, group, fact = fact_from_event(42, paid)
    assert (kind, group, fact["position"]) == ("fee.paid", "entries", 42)
    assert {k: v for k, v in fact["data"].items() if k != "reason"} == {"member_id": "m1", "year": 2025, "amount_cents": 4000}
    assert view(fact, "admin") == fact and "Alice" in str(fact) and "Marie" in str(fact)
    seen = view(fact, "reader")
    assert "Alice" not in str(seen) and "Marie" not in str(seen)
    assert seen["entry"]["postings"] == [
        {"account": "512", "party": None, "unit": "EUR", "amount": 4000},
        {"account": "411", "party": "m1", "unit": "EUR", "amount": -4000},
    ]
    assert view(fact, "clerk") is None  # no access to the books
    admitted = _event(MemberAdmitted, member_id="m1", name="Alice Martin", member_kind="person", college="u", headcount=1)
    _, _, fact = fact_from_event(43, admitted)
    assert view(fact, "reader") is None and view(fact, "clerk")["data"]["name"] == "Alice Martin"
    assert "name" in PERSONAL_FIELDS


def test_reader_view_drops_personal_fields_nested_in_the_data():
    payout = _event(
        CrowdfundingPayoutReceived,
        payout_id="p1",
        platform="Ulule",
        campaign="c",
        purpose=None,
        gross_cents=10000,
        fee_cents=500,
        piece_ref=None,
        journal_number=8,
        label="Versement",
        chain_hash="cd",
        postings=[["512", None, "EUR", 9500], ["622", None, "EUR", 500], ["7541", None, "EUR", -10000]],
        backers=[
            {
                "donor_id": "d1",
                "donor_name": "Alice Martin",
                "donor_kind": "individual",
                "donor_address": "1 rue des Lilas",
                "amount_cents": 6000,
            }
        ],
    )
    _, group, fact = fact_from_event(44, payout)
    assert group == "entries" and "Alice Martin" in str(view(fact, "admin"))
    seen = view(fact, "reader")
    assert seen["data"]["backers"] == [{"donor_id": "d1", "donor_kind": "individual", "amount_cents": 6000}]
    assert "Alice" not in str(seen) and "Lilas" not in str(seen)
