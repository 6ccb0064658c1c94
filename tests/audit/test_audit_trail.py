"""The audit trail: who, when, which idempotency key and why, for every event; reversals with what
they reverse and why; filters and paging; events stored before `reason` existed still decode."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cli.audit import audit_trail_cmd
from cli.main import build
from domain.cooperative import coop_id
from domain.corrections import ReverseEntry
from domain.errors import InvalidCommand
from domain.fees import CallFee, PayFee
from domain.membership import AdmitMember
from ledger.commands import parse_envelope
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.audit_trail import audit_trail
from tests.builders import found_association

cli = build()  # every command registered, whichever test of the run imports the CLI first

cli.add_command(audit_trail_cmd)


def record_history(ledger: Ledger) -> None:
    def run(command, key, actor, reason=None):
        result = ledger.execute(command, key, actor, reason)
        assert result.accepted, result.error and result.error.as_dict()

    run(found_association("demo"), "found", "key:aaaaaaaaaaaa", "statutes signed")
    run(AdmitMember("demo", "alice", "Alice", "person", "users", date(2020, 2, 1)), "adm-1", "key:clerk0000001")
    run(CallFee("demo", "alice", 2020, date(2020, 2, 1)), "call-1", "key:treasurer001", "2020 calls")  # entry 1
    run(PayFee("demo", "alice", 2020, Decimal("100"), date(2020, 3, 1)), "bank-12", "key:treasurer001", "bank line 12")  # entry 2
    run(ReverseEntry("demo", 2, "cheque bounced", date(2020, 3, 9)), "fix-1", "key:treasurer002")  # entry 3


def test_every_event_records_who_when_which_key_and_why(ledger, runner):
    started = datetime.now(UTC)
    record_history(ledger)
    runner.catch_up()
    trail = audit_trail(ledger.db, "demo")
    rows = [
        (e["kind"], e["actor"], e["idempotency_key"], e["reason"], e["journal_number"], e["reverses"]) for e in trail["events"]
    ]
    assert rows == [
        ("CooperativeFounded", "key:aaaaaaaaaaaa", "found", "statutes signed", None, None),
        ("MemberAdmitted", "key:clerk0000001", "adm-1", None, None, None),
        ("FeeCalled", "key:treasurer001", "call-1", "2020 calls", 1, None),
        ("FeePaid", "key:treasurer001", "bank-12", "bank line 12", 2, None),
        ("EntryReversed", "key:treasurer002", "fix-1", "cheque bounced", 3, 2),
    ]
    assert trail["next_after"] is None
    for e in trail["events"]:
        assert started <= datetime.fromisoformat(e["recorded_at"]) <= datetime.now(UTC)
    assert trail["events"][3]["accounts"] == ["411", "512"] and trail["events"][3]["label"]

    # A retry with the same key and command is the same operation: the first reason stands.
    again = ledger.execute(PayFee("demo", "alice", 2020, Decimal("100.00"), date(2020, 3, 1)), "bank-12", "key:other", "retry")
    assert again.accepted and again.duplicate

    def kinds(**filters) -> list[str]:
        return [e["kind"] for e in audit_trail(ledger.db, "demo", **filters)["events"]]

    assert kinds(actor="key:treasurer001") == ["FeeCalled", "FeePaid"]
    assert kinds(account="411") == ["FeeCalled", "FeePaid", "EntryReversed"]
    assert kinds(account="512") == ["FeePaid", "EntryReversed"]
    assert kinds(account="512", actor="key:treasurer002") == ["EntryReversed"]
    assert kinds(date_field="effective", date_from=date(2020, 2, 1), date_to=date(2020, 3, 1)) == [
        "MemberAdmitted",
        "FeeCalled",
        "FeePaid",
    ]
    today = datetime.now(UTC).date()
    assert len(kinds(date_from=today - timedelta(days=1), date_to=today + timedelta(days=1))) == 5
    assert kinds(date_to=today - timedelta(days=1)) == []
    assert kinds(kind="EntryReversed", actor="nobody") == []

    pages, after = [], 0
    for _ in range(10):
        page = audit_trail(ledger.db, "demo", after=after, limit=2)
        pages.append([e["kind"] for e in page["events"]])
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert pages == [["CooperativeFounded", "MemberAdmitted"], ["FeeCalled", "FeePaid"], ["EntryReversed"]]


def test_events_stored_before_the_reason_existed_still_decode_with_no_reason(make_ledger, runner):
    ledger = runner.ledger
    record_history(ledger)
    table = ledger.app.recorder.events_table_name  # type: ignore[attr-defined]
    originator = coop_id("demo").hex if ledger.db.dialect == "sqlite" else coop_id("demo")
    with ledger.db.transaction() as tx:  # make versions 1..4 look like events written before the audit trail existed
        for version, state in tx.execute(
            f"SELECT originator_version, state FROM {table} WHERE originator_id = ?"  # noqa: S608
            " AND originator_version <= 4",
            (originator,),
        ):
            payload = json.loads(bytes(state))
            assert payload.pop("class_version") == 2 and "reason" in payload
            payload.pop("reason")
            tx.execute_one(
                f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?",  # noqa: S608
                (json.dumps(payload, ensure_ascii=False).encode(), originator, version),
            )
    fresh = make_ledger()  # nothing cached: every event is decoded from the store
    events = list(fresh.app.events.get(coop_id("demo")))
    assert [e.reason for e in events] == [None, None, None, None, "cheque bounced"]
    assert fresh.cooperative("demo").journal.last_number == 3  # the chain still verifies on replay
    runner.rebuild()
    assert [e["reason"] for e in audit_trail(ledger.db, "demo")["events"]] == [None, None, None, None, "cheque bounced"]


def test_record_files_carry_a_reason_and_the_cli_lists_the_trail(store_url, tmp_path):
    lines = [
        {
            "command": "FoundCooperative",
            "idempotency_key": "f",
            "actor": "marie",
            "coop": "demo",
            "name": "Demo",
            "legal_form": "association",
            "founded_on": "2020-01-01",
            "colleges": [{"code": "users", "name": "Usagers"}],
            "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
        },
        {
            "command": "AdmitMember",
            "idempotency_key": "a",
            "actor": "marie",
            "reason": "AG du 2020-01-15",
            "coop": "demo",
            "member_id": "m1",
            "name": "M1",
            "kind": "person",
            "college": "users",
            "effective_date": "2020-01-15",
        },
        {
            "command": "CallFee",
            "idempotency_key": "c",
            "coop": "demo",
            "member_id": "m1",
            "year": 2020,
            "effective_date": "2020-01-15",
        },
        {
            "command": "ReverseEntry",
            "idempotency_key": "r",
            "actor": "paul",
            "coop": "demo",
            "entry_number": 1,
            "reason": "appel en double",
            "effective_date": "2020-01-20",
        },
    ]
    path = tmp_path / "commands.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    recorded = CliRunner().invoke(cli, ["--database-url", store_url, "record", str(path)])
    assert recorded.exit_code == 0, recorded.output
    listed = CliRunner().invoke(cli, ["--database-url", store_url, "audit-trail", "--coop", "demo", "--json"])
    assert listed.exit_code == 0, listed.output
    events = json.loads(listed.stdout)["events"]
    assert [(e["kind"], e["actor"], e["reason"]) for e in events] == [
        ("CooperativeFounded", "marie", None),
        ("MemberAdmitted", "marie", "AG du 2020-01-15"),
        ("FeeCalled", "cli", None),
        ("EntryReversed", "paul", "appel en double"),
    ]
    by_actor = CliRunner().invoke(
        cli, ["--database-url", store_url, "audit-trail", "--coop", "demo", "--actor", "paul", "--account", "411"]
    )
    assert by_actor.exit_code == 0 and "appel en double" in by_actor.output and "AG du" not in by_actor.output


def test_the_envelope_reason_rules():
    base = {
        "command": "CallFee",
        "idempotency_key": "k",
        "coop": "demo",
        "member_id": "m1",
        "year": 2020,
        "effective_date": date(2020, 1, 1),
    }
    assert parse_envelope(base).reason is None
    assert parse_envelope({**base, "reason": "  relance  "}).reason == "relance"
    assert parse_envelope(base, reason="relance").reason == "relance"
    assert parse_envelope({**base, "reason": "relance"}, reason="relance").reason == "relance"
    reverse = {
        "command": "ReverseEntry",
        "idempotency_key": "k",
        "coop": "demo",
        "entry_number": 1,
        "reason": "doublon",
        "effective_date": date(2020, 1, 2),
    }
    envelope = parse_envelope(reverse, reason="doublon")
    assert envelope.command.reason == "doublon" and envelope.reason is None  # the command's own reason is the one
    for data, header, field, rule in [
        ({**base, "reason": "a"}, "b", "reason", "one_reason"),
        (reverse, "autre chose", "X-Reason", "one_reason"),
        ({**base, "reason": "x" * 501}, None, "reason", "max_length"),
        ({**base, "reason": 12}, None, "reason", "text"),
        ({**base, "reason": "  "}, None, "reason", "required"),
    ]:
        with pytest.raises(InvalidCommand) as exc:
            parse_envelope(data, reason=header)
        assert (exc.value.field, exc.value.rule) == (field, rule), (data, header)


def test_a_ledger_reopened_on_the_store_reads_the_reasons_back(store_url):
    first = Ledger(StoreConfig.from_url(store_url))
    try:
        result = first.execute(found_association("demo"), "f", "marie", "constitution")
        assert result.accepted
    finally:
        first.close()
    second = Ledger(StoreConfig.from_url(store_url))
    try:
        (founded,) = list(second.app.events.get(coop_id("demo")))
        assert (founded.actor, founded.idempotency_key, founded.reason) == ("marie", "f", "constitution")
    finally:
        second.close()
