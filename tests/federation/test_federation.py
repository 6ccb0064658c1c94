"""Federating the demo's three associations (both stores): what moves, what stays, all or nothing."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from domain.entries import EntryLine, RecordEntry
from domain.fees import CallFee, PayFee
from domain.governance import member_eligibility
from ledger import demo_federation
from ledger.commands import loads, parse_envelope
from ledger.exports.fec import export_fec
from ledger.exports.plaintext import export_plaintext
from ledger.founder_books import read_founder_books
from projections.balances import account_balance, trial_balance
from projections.governance import explain_member, weights_as_of
from projections.journal import journal
from projections.observatory import totals_by_dim
from projections.registry import cooperative_summary, member_standing

from .conftest import demo_lines, run

FOUNDERS = demo_federation.FOUNDERS
NEW = demo_federation.FEDERATION
DAY = date(2026, 1, 1)
PAST_DAYS = (date(2025, 3, 15), date(2025, 11, 30), date(2025, 12, 31))


def _federation_line(**changes: Any) -> dict[str, Any]:
    (line,) = demo_lines(demo_federation.federation)
    return {**line, **changes}


def _federate(ledger, line):
    envelope = parse_envelope(loads(json.dumps(line)))
    return ledger.execute(envelope.command, envelope.idempotency_key, "test")


def _read_founders(ledger) -> str:
    """Everything a reader sees of the founders before the federation date, serialised."""
    db = ledger.db
    seen: dict[str, Any] = {}
    for slug in FOUNDERS:
        out = io.StringIO()
        list(export_plaintext(ledger, slug, out))
        seen[slug] = {
            "journal": journal(db, slug),
            "trial_balance": [trial_balance(db, slug, as_of=day) for day in PAST_DAYS],
            "weights": [weights_as_of(db, slug, day) for day in PAST_DAYS],
            "fec_2025": export_fec(ledger, slug, 2025).text(),
            "hledger": out.getvalue(),
        }
    return json.dumps(seen, sort_keys=True, default=str)


def test_three_associations_federate_and_their_history_stays_byte_for_byte(founded):
    ledger, runner = founded
    before = _read_founders(ledger)
    closing = {slug: read_founder_books(ledger, ledger.cooperative(slug)).balances for slug in FOUNDERS}

    result = _federate(ledger, _federation_line())
    assert result.accepted, result.error and result.error.as_dict()
    runner.catch_up()

    assert _read_founders(ledger) == before
    # Opening trial balance of the federation = sum of the founders' closing balances, account by account.
    expected: Counter[tuple[str, str]] = Counter()
    for balances in closing.values():
        for (account, _party, unit), amount in balances.items():
            expected[(account, unit)] += amount
    opened = {(a["account"], a["unit"]): a["balance"] for a in trial_balance(ledger.db, NEW, as_of=DAY)["accounts"]}
    assert opened == {k: v for k, v in expected.items() if v}
    assert opened == {
        ("120", "EUR"): -910_00,
        ("196", "EUR"): -300_00,
        ("411", "EUR"): 110_00,
        ("512", "EUR"): 1100_00,
    }  # worked out in the demo
    # The report says what moved.
    report = result.report
    assert [(c["code"], c["weight"], c["members"]) for c in report["colleges"]] == [
        ("garrigues", "40", 4),
        ("littoral", "30", 2),
        ("cevennes", "30", 3),
    ]
    assert report["totals"] == {"EUR": {"debit": 1210_00, "credit": 1210_00}}
    # Every entry references its source books, and each founder is sealed with its chain head.
    new = ledger.cooperative(NEW)
    for ref in new.federated_from:
        founder = ledger.cooperative(ref["coop"])
        assert founder.sealed_by_federation["federation"] == NEW
        assert (
            (founder.sealed_by_federation["head_number"], founder.sealed_by_federation["head_hash"])
            == (ref["head_number"], ref["head_hash"])
            == (founder.journal.last_number, founder.journal.last_hash)
        )
    assert {m.member_id: m.college for m in new.members.values()}["C-02"] == "cevennes"
    assert "L-03" not in new.members  # she resigned before the federation
    # The new cooperative's FEC opens with the carried balances.
    fec = export_fec(ledger, NEW, 2026).text()
    assert "Garrigues Numérique" in fec


def test_founders_refuse_anything_after_the_federation(founded):
    ledger, _runner = founded
    assert _federate(ledger, _federation_line()).accepted
    for day in (date(2026, 2, 1), date(2025, 6, 1)):
        entry = RecordEntry(
            "assoc-garrigues", "Après la fédération", [EntryLine("626", debit="10"), EntryLine("512", credit="10")], day
        )
        refused = ledger.execute(entry, f"late-{day}")
        assert not refused.accepted and refused.error.rule == "books_sealed_by_federation", refused.error.as_dict()
        assert NEW in refused.error.message
    refused = ledger.execute(CallFee("assoc-cevennes", "C-01", 2026, date(2026, 1, 5)), "late-fee")
    assert refused.error.rule == "books_sealed_by_federation"
    again = _federate(ledger, _federation_line(idempotency_key="second", coop="grappe-bis"))
    assert again.error.rule == "not_sealed" and again.error.field == "founders[0]"


def test_a_refused_federation_writes_nothing_anywhere(founded):
    ledger, _runner = founded
    position = ledger.position()
    cases = [
        (_federation_line(founders=[*FOUNDERS, "assoc-inconnue"]), "known_cooperative"),
        (_federation_line(effective_date="2025-12-01"), "fiscal_year_closed"),
        (_federation_line(siren="845678904"), "siren_checksum"),
        (_federation_line(colleges=[{"code": "un", "name": "Un", "founders": ["assoc-garrigues"]}]), "every_founder_placed"),
        (_federation_line(coop="assoc-littoral"), "new_cooperative"),
    ]
    for i, (line, rule) in enumerate(cases):
        result = _federate(ledger, {**line, "idempotency_key": f"refused-{i}"})
        assert not result.accepted and result.error.rule == rule, (rule, result.error and result.error.as_dict())
    assert ledger.position() == position
    for slug in FOUNDERS:
        assert ledger.cooperative(slug).sealed_by_federation is None
    assert _federate(ledger, _federation_line()).accepted  # nothing half-written blocks the real one


def test_member_ids_clash_is_refused_unless_prefixed(founded):
    ledger, _runner = founded
    run(
        ledger,
        [
            {
                "command": "AdmitMember",
                "idempotency_key": "twin",
                "coop": "assoc-cevennes",
                "member_id": "G-01",
                "name": "Homonyme",
                "kind": "person",
                "college": "membres",
                "effective_date": "2026-01-15",
            }
        ],
    )
    position = ledger.position()
    early = _federate(ledger, _federation_line(idempotency_key="early"))
    assert early.error.rule == "after_founder_history"  # assoc-cevennes has an event on 2026-01-15
    clash = _federate(ledger, _federation_line(effective_date="2026-02-01"))
    assert clash.error.rule == "unique_member" and "prefix" in clash.error.message
    assert ledger.position() == position
    ok = _federate(ledger, _federation_line(idempotency_key="prefixed", member_ids="prefix", effective_date="2026-02-01"))
    assert ok.accepted, ok.error and ok.error.as_dict()
    new = ledger.cooperative(NEW)
    assert {"assoc-garrigues.G-01", "assoc-cevennes.G-01"} <= set(new.members)
    parties = {b["party"] for f in ok.report["founders"] for b in f["balances"]}
    assert "assoc-garrigues.G-01" in parties and "G-01" not in parties  # the receivable follows the member


def test_retry_with_the_same_key_writes_nothing_and_answers_the_same(founded):
    ledger, _runner = founded
    first = _federate(ledger, _federation_line())
    position = ledger.position()
    again = _federate(ledger, _federation_line())
    assert again.accepted and again.duplicate and again.position == first.position
    assert again.report == json.loads(json.dumps(first.report))
    assert ledger.position() == position
    other = _federate(ledger, _federation_line(name="Autre nom"))
    assert other.error.rule == "same_key_same_content"


def test_each_college_follows_its_own_fee_and_eligibility_rules(founded):
    ledger, runner = founded
    assert _federate(ledger, _federation_line()).accepted
    called = {}
    for member_id in ("G-02", "G-04", "C-02", "C-03"):
        result = ledger.execute(CallFee(NEW, member_id, 2026, date(2026, 1, 10)), f"call-{member_id}")
        assert result.accepted, result.error and result.error.as_dict()
        called[member_id] = ledger.cooperative(NEW).fee_calls[(member_id, 2026)].called_cents
    # garrigues follows the federation's schedule (60 up to 9 people, 250 from 10); cevennes its own flat 30.
    assert called == {"G-02": 250_00, "G-04": 60_00, "C-02": 30_00, "C-03": 30_00}
    new = ledger.cooperative(NEW)
    day = date(2026, 1, 20)
    assert not member_eligibility(new, "G-02", day).eligible  # fee required, not paid
    verdict = member_eligibility(new, "C-02", day)
    assert verdict.eligible and "fee_paid" not in {r["rule"] for r in verdict.reasons}  # cevennes asks for no fee
    # The read side applies the colleges' own rules too: same verdicts, same reasons, same voters.
    runner.catch_up()
    for member_id in new.members:
        read = explain_member(ledger.db, NEW, member_id, day)
        write = member_eligibility(new, member_id, day)
        assert (read["eligible"], read["college"], read["reasons"]) == (write.eligible, write.college, write.reasons), member_id
    weights = weights_as_of(ledger.db, NEW, day)
    assert weights["college_rules"]["cevennes"] == {"require_fee_paid": False, "min_shares": 0}
    assert {v["member_id"] for v in weights["voters"]} == {m for m in new.members if member_eligibility(new, m, day).eligible}
    assert {v["college"] for v in weights["voters"]} == {"cevennes"}  # nobody else has paid a 2026 fee yet


def test_the_founders_members_moved_and_their_dues_follow_them(founded):
    ledger, runner = founded
    before = {
        slug: {
            m: (call.called_cents, call.paid_cents) for (m, y), call in ledger.cooperative(slug).fee_calls.items() if y == 2025
        }
        for slug in FOUNDERS
    }
    owed = {m: c - p for calls in before.values() for m, (c, p) in calls.items() if c > p}
    assert owed and sum(owed.values()) == 110_00  # the demo's unpaid 2025 fees, the 411 balance carried
    result = _federate(ledger, _federation_line())
    assert result.accepted, result.error and result.error.as_dict()
    runner.catch_up()
    new = ledger.cooperative(NEW)
    # Dues carried as fee calls of the founder's year, collectable in the federation, never beyond.
    assert {m: call.due_cents for (m, year), call in new.fee_calls.items() if year == 2025 and call.due_cents} == owed
    opened = [f["open_items"] for f in result.report["founders"]]
    assert sorted((i["party"], i["amount_minor"]) for items in opened for i in items if i["account"] == "411") == sorted(
        owed.items()
    )
    assert [(i["account"], i["party"], i["amount_minor"]) for items in opened for i in items if i["account"] != "411"] == [
        ("196", "DON-2025-01", -300_00)
    ]  # the earmarked gift's unspent part
    member, due = sorted(owed.items())[0]
    too_much = ledger.execute(PayFee(NEW, member, 2025, Decimal(due + 1) / 100, date(2026, 2, 1)), "pay-too-much")
    assert too_much.error.rule == "no_overpayment"
    paid = ledger.execute(PayFee(NEW, member, 2025, Decimal(due) / 100, date(2026, 2, 1)), "pay-dues")
    assert paid.accepted, paid.error and paid.error.as_dict()
    runner.catch_up()
    assert account_balance(ledger.db, NEW, "411", party=member) == 0
    standing = {row["member_id"]: row for row in member_standing(ledger.db, NEW, 2025)}
    assert standing[member]["in_good_standing"] and standing[member]["fee_paid_cents"] == standing[member]["fee_called_cents"]
    # The founders' members moved: from the federation date they are its members, not the founders'.
    for slug in FOUNDERS:
        rows = member_standing(ledger.db, slug, 2025)
        moved = [r for r in rows if r["status"] == "federated"]
        assert moved and all(r["left_on"] == DAY.isoformat() for r in moved)
        assert {r["member_id"] for r in moved} == {
            m for m in ledger.cooperative(slug).members if ledger.cooperative(slug).members[m].status.value == "federated"
        }
        assert not [r for r in rows if r["status"] == "active"]
        assert cooperative_summary(ledger.db, slug)["sealed_by_federation"] == {
            "federation": NEW,
            "effective_date": DAY.isoformat(),
        }
        after = weights_as_of(ledger.db, slug, DAY)
        assert after["voters"] == [] and all(c["members"] == 0 for c in after["colleges"])
        assert explain_member(ledger.db, slug, moved[0]["member_id"], DAY)["reasons"][1]["detail"] == f"federated on {DAY}"
        assert totals_by_dim(ledger.db, slug, ["members"])["members"] == {"membres": 0}  # the observatory counts none


def test_the_command_parses_with_its_defaults():
    line = _federation_line(colleges=None)
    command = parse_envelope(loads(json.dumps(line))).command
    assert dataclasses.asdict(command)["colleges"] is None and command.member_ids == "keep"


def test_college_rules_are_dated_and_checked():
    from decimal import Decimal

    import pytest

    from domain.cooperative import FeeBracket, found_cooperative
    from domain.errors import DomainError
    from domain.events import Meta
    from domain.fees import fee_for
    from domain.governance import SetCollegeRules, set_college_rules
    from domain.membership import AdmitMember, admit_member
    from tests.builders import found_association

    meta = Meta("test", "k")
    coop = found_cooperative(None, found_association("rules"), meta)
    admit_member(coop, AdmitMember("rules", "U1", "Usager", "person", "users", date(2020, 2, 1)), meta)
    with pytest.raises(DomainError) as unknown:
        set_college_rules(coop, SetCollegeRules("rules", "nobody", date(2021, 1, 1)), meta)
    assert unknown.value.rule == "known_college"
    with pytest.raises(DomainError) as shares:
        set_college_rules(coop, SetCollegeRules("rules", "users", date(2021, 1, 1), min_shares=1), meta)
    assert shares.value.rule == "no_capital"  # an association has no shares to require
    set_college_rules(coop, SetCollegeRules("rules", "users", date(2021, 1, 1), [FeeBracket(1, None, Decimal(12))]), meta)
    member = coop.members["U1"]
    assert (fee_for(coop, member, date(2020, 12, 31)), fee_for(coop, member, date(2021, 1, 1))) == (100_00, 12_00)
    set_college_rules(coop, SetCollegeRules("rules", "users", date(2022, 1, 1), require_fee_paid=False), meta)
    assert fee_for(coop, member, date(2022, 3, 1)) == 100_00  # a new version without a schedule: the coop's again
    with pytest.raises(DomainError) as earlier:
        set_college_rules(coop, SetCollegeRules("rules", "users", date(2021, 6, 1)), meta)
    assert earlier.value.rule == "not_before"
