"""A federation goes through the one write path (ledger/service.py, ledger/decision.py): batched with
other commands in one transaction, retried by the same loop when its save conflicts, decided on the
state the batch's earlier commands left, idempotent like any command (both stores)."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import IntegrityError

from domain.entries import EntryLine, RecordEntry
from domain.fees import CallFee, PayFee
from ledger import demo_federation, writer_turns
from ledger.app import CommandReceipt
from ledger.commands import loads, parse_envelope
from tests.builders import admit, found_association, ok, stored_event_count
from tests.perf.test_group_commit import _in_one_group

from .conftest import demo_lines

NEW = demo_federation.FEDERATION
LATER = date(2026, 2, 1)  # the federation's date here: a founder may still record in January


def _federation(**changes: Any) -> Any:
    (line,) = demo_lines(demo_federation.federation)
    return parse_envelope(loads(json.dumps({**line, "effective_date": LATER.isoformat(), **changes}))).command


def _founder(report: dict[str, Any], slug: str) -> dict[str, Any]:
    (founder,) = [f for f in report["founders"] if f["coop"] == slug]
    return founder


def test_a_batch_with_a_federation_is_one_transaction_retried_by_the_same_loop(founded, make_ledger, monkeypatch):
    ledger, _runner = founded
    ok(ledger, found_association("voisine"))  # a cooperative that has nothing to do with the federation
    other = make_ledger()  # another process
    federation = _federation()
    items = [
        (admit("voisine", "v1", "users", date(2026, 1, 5)), "b-admit", "test"),
        # A founder's payment decided just before the federation: its books must count it, or the
        # fee call it settled would no longer match the founder's 411 balance (open_items_not_carried).
        (PayFee("assoc-garrigues", "G-01", 2025, Decimal("50"), date(2026, 1, 15)), "b-pay", "test"),
        (_federation(coop="grappe-bis", founders=["assoc-littoral", "assoc-inconnue"]), "b-refused", "test"),
        (federation, "b-fed", "test"),
        (CallFee(NEW, "G-02", 2026, date(2026, 2, 10)), "b-call", "test"),  # in the federation just decided
        (
            RecordEntry(
                "assoc-cevennes", "Trop tard", [EntryLine("626", debit="10"), EntryLine("512", credit="10")], date(2026, 1, 20)
            ),
            "b-late",
            "test",
        ),  # decided after the seal: refused
        (federation, "b-fed", "test"),  # the same command again in the batch: a duplicate
    ]
    saves: list[tuple[Any, ...]] = []
    real_save = ledger.app.save
    before = stored_event_count(ledger)

    def save(*events: Any, **kwargs: Any) -> Any:
        saves.append(events)
        if len(saves) > 1:
            return real_save(*events, **kwargs)
        # Another process writes to `voisine` between this batch's load and its save. On PostgreSQL
        # the batch holds the cooperatives' turns (ledger/writer_turns.py), which keep out any writer
        # that takes them: this one takes none (an older program, say), the case the retry is for.
        with monkeypatch.context() as without_turns:
            without_turns.setattr(writer_turns, "turns", lambda *_a, **_k: nullcontext())
            assert other.execute(admit("voisine", "v0", "users", date(2026, 1, 2)), "concurrent").accepted
        try:
            return real_save(*events, **kwargs)
        except IntegrityError:
            # Nothing of the batch was written: not the ordinary commands, not the founders' seals.
            assert stored_event_count(ledger) == before + 2  # the other process's event and receipt
            assert all(other.cooperative(s).sealed_by_federation is None for s in demo_federation.FOUNDERS)
            raise

    monkeypatch.setattr(ledger.app, "save", save)
    results = ledger.execute_batch(items)

    assert len(saves) == 2  # one transaction for the whole batch, conflicted once, decided again, saved once
    kinds = [type(e).__name__ for e in saves[1]]
    assert {
        "MemberAdmitted",
        "FeePaid",
        "CooperativeFounded",
        "FederationRecorded",
        "BooksSealedByFederation",
        "FeeCalled",
    } <= set(kinds)
    assert sum(isinstance(e, CommandReceipt.Created) for e in saves[1]) == 4  # one per command accepted
    admitted, paid, refused, fed, called, late, again = results
    assert [r.accepted for r in results] == [True, True, False, True, True, False, True]
    assert refused.error.rule == "known_cooperative" and late.error.rule == "books_sealed_by_federation"
    assert not any(r.duplicate for r in (admitted, paid, fed, called))
    assert again.duplicate and (again.position, again.events, again.report) == (fed.position, fed.events, fed.report)
    # The founder's books counted the payment decided earlier in the batch: nothing owed on 411 any more.
    garrigues = _founder(fed.report, "assoc-garrigues")
    assert not [i for i in garrigues["open_items"] if i["account"] == "411"]
    assert fed.as_dict()["report"] == fed.report and "report" not in paid.as_dict()
    assert ledger.cooperative(NEW).fee_calls[("G-02", 2026)].called_cents == 250_00
    assert set(ledger.cooperative("voisine").members) == {"v0", "v1"}

    # Retried later under the same key: the same answer and report, nothing written.
    position = ledger.position()
    retried = ledger.execute(federation, "b-fed")
    assert retried.accepted and retried.duplicate and retried.position == fed.position
    assert retried.as_dict()["report"] == json.loads(json.dumps(fed.report))
    assert ledger.execute(_federation(name="Autre nom"), "b-fed").error.rule == "same_key_same_content"
    assert ledger.position() == position


def test_group_commit_saves_a_federation_with_other_callers_commands(founded):
    ledger, _runner = founded
    for slug in ("voisine-a", "voisine-b"):
        ok(ledger, found_association(slug))
    results = _in_one_group(
        ledger,
        [
            (admit("voisine-a", "a1", "users", date(2026, 1, 5)), "g-a"),
            (_federation(), "g-fed"),
            (admit("voisine-b", "b1", "users", date(2026, 1, 5)), "g-b"),
        ],
    )
    assert all(r.accepted and not r.duplicate for r in results), [r.error and r.error.as_dict() for r in results]
    fed = results[1]
    assert fed.report["coop"] == NEW and len(fed.report["founders"]) == 3
    assert all(ledger.cooperative(s).sealed_by_federation["federation"] == NEW for s in demo_federation.FOUNDERS)
    position = ledger.position()
    again = ledger.execute(_federation(), "g-fed")
    assert again.duplicate and again.report == json.loads(json.dumps(fed.report)) and ledger.position() == position
