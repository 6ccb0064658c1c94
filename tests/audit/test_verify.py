"""`coopledger verify` against a store someone tampered with, on SQLite and PostgreSQL: one stored
event's payload edited, one row deleted, two rows swapped, the last rows cut off, a closing's seal
forged. Each time the first broken entry is named and the exit status is 1; untouched, it is 0."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from click.testing import CliRunner

from cli.audit import audit_trail_cmd, fiscal_years_cmd, verify
from cli.main import build
from domain.closing import CloseFiscalYear
from domain.cooperative import coop_id
from domain.errors import IntegrityViolation
from domain.fees import CallFee
from ledger.links import StoredLinks
from ledger.service import Ledger
from ledger.store import StoreConfig
from tests.builders import admit, ok, rich_history

cli = build()  # every command registered, whichever test of the run imports the CLI first

cli.add_command(verify)  # main() registers them; the tests drive the click group directly
cli.add_command(audit_trail_cmd)
cli.add_command(fiscal_years_cmd)


@pytest.fixture
def books(ledger: Ledger) -> Ledger:
    """Two cooperatives; demo's 2020 closed (entry 10), then one more entry in 2021 (entry 11)."""
    rich_history(ledger)
    ok(ledger, CloseFiscalYear("demo", 2020))
    ok(ledger, CallFee("demo", "alice", 2022, date(2021, 2, 1)))
    assert ledger.cooperative("demo").journal.last_number == 11
    return ledger


def run_verify(store_url: str, *args: str) -> tuple[int, Any, str]:
    """(exit status, the JSON reports by cooperative, the text output)."""
    as_json = CliRunner().invoke(cli, ["--database-url", store_url, "verify", "--json", *args])
    text = CliRunner().invoke(cli, ["--database-url", store_url, "verify", *args])
    assert as_json.exit_code == text.exit_code, (as_json.output, text.output)
    return as_json.exit_code, {r["coop"]: r for r in json.loads(as_json.stdout)}, text.output


# ---------------------------------------------------------------- raw access to the stored rows


def _row(ledger: Ledger, slug: str, version: int) -> tuple[str, tuple[Any, int]]:
    table = ledger.app.recorder.events_table_name  # type: ignore[attr-defined]
    originator = coop_id(slug).hex if ledger.db.dialect == "sqlite" else coop_id(slug)
    return table, (originator, version)


def read_row(ledger: Ledger, slug: str, version: int) -> tuple[str, bytes]:
    table, key = _row(ledger, slug, version)
    with ledger.db.read() as tx:
        ((topic, state),) = tx.execute(
            f"SELECT topic, state FROM {table} WHERE originator_id = ? AND originator_version = ?", key
        )  # noqa: S608
    return topic, bytes(state)


def write_row(ledger: Ledger, slug: str, version: int, topic: str, state: bytes) -> None:
    table, key = _row(ledger, slug, version)
    with ledger.db.transaction() as tx:
        tx.execute_one(
            f"UPDATE {table} SET topic = ?, state = ? WHERE originator_id = ? AND originator_version = ?",  # noqa: S608
            (topic, state, *key),
        )


def delete_row(ledger: Ledger, slug: str, version: int) -> None:
    table, key = _row(ledger, slug, version)
    with ledger.db.transaction() as tx:
        tx.execute_one(f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?", key)  # noqa: S608


def event_link(ledger: Ledger, slug: str, version: int) -> str:
    """The link the store holds for this version in the event chain."""
    return StoredLinks(ledger.db).between(coop_id(slug), version - 1, version)[version]


def version_of(ledger: Ledger, slug: str, number: int) -> int:
    return ledger.cooperative(slug).journal.versions[number - 1]


def edit_state(ledger: Ledger, slug: str, number: int, change) -> None:
    version = version_of(ledger, slug, number)
    topic, state = read_row(ledger, slug, version)
    payload = json.loads(state)
    change(payload)
    write_row(ledger, slug, version, topic, json.dumps(payload, ensure_ascii=False).encode())


# ---------------------------------------------------------------- tests


def test_an_untouched_store_verifies_and_shows_the_chain_head_and_sealed_closing(books, store_url):
    status, reports, text = run_verify(store_url)
    assert status == 0, text
    demo = books.cooperative("demo").journal
    assert reports["demo"]["ok"] and reports["scic"]["ok"]
    assert (reports["demo"]["last_number"], reports["demo"]["last_hash"]) == (11, demo.last_hash)
    closing_version = version_of(books, "demo", 10)
    assert reports["demo"]["sealed"] == [
        {
            "year": 2020,
            "closing_number": 10,
            "head_number": 9,
            "head_hash": books.cooperative("demo").closing.closed[2020]["head_hash"],
            "event_head": f"{closing_version}:{event_link(books, 'demo', closing_version)}",
        }
    ]
    assert (
        reports["demo"]["head"]
        == f"{books.cooperative('demo').version}:{event_link(books, 'demo', books.cooperative('demo').version)}"
    )
    assert reports["scic"]["entries"] == 6 and reports["scic"]["sealed"] == []
    assert "OK demo" in text and "2020 at entry 10" in text
    status, reports, _ = run_verify(store_url, "--coop", "scic")
    assert status == 0 and list(reports) == ["scic"]


def test_an_edited_amount_is_named_by_its_entry_even_when_the_entry_still_balances(books, store_url):
    def shift_one_cent(payload: dict) -> None:  # entry 5: 250.50 paid by org-b; make it 250.51 on both sides
        payload["postings"][0][3] += 1
        payload["postings"][1][3] -= 1

    edit_state(books, "demo", 5, shift_one_cent)
    status, reports, text = run_verify(store_url)
    assert status == 1
    problem = reports["demo"]["problem"]
    assert (problem["kind"], problem["number"], problem["version"]) == ("content_hash_mismatch", 5, version_of(books, "demo", 5))
    assert reports["demo"]["entries"] == 4  # 1..4 intact
    assert reports["scic"]["ok"]  # the other cooperative is untouched
    assert "BROKEN demo: entry 5" in text
    # The aggregate's own replay only crashes on it; verify named it without replaying.
    fresh = Ledger(StoreConfig.from_url(store_url))
    try:
        with pytest.raises(IntegrityViolation, match="entry 5"):
            fresh.cooperative("demo")
    finally:
        fresh.close()


def test_a_deleted_row_is_named_as_the_missing_entry(books, store_url):
    delete_row(books, "demo", version_of(books, "demo", 4))
    status, reports, text = run_verify(store_url)
    problem = reports["demo"]["problem"]
    assert status == 1 and (problem["kind"], problem["number"]) == ("missing_event", 4)
    assert problem["version"] == version_of(books, "demo", 4)
    assert "entry 4 is missing" in problem["message"] and "BROKEN demo: entry 4" in text


def test_two_swapped_rows_are_named_as_entries_out_of_order(books, store_url):
    v3, v6 = version_of(books, "scic", 3), version_of(books, "scic", 6)
    row3, row6 = read_row(books, "scic", v3), read_row(books, "scic", v6)
    write_row(books, "scic", v3, *row6)
    write_row(books, "scic", v6, *row3)
    status, reports, _ = run_verify(store_url)
    problem = reports["scic"]["problem"]
    assert status == 1 and (problem["kind"], problem["number"], problem["version"]) == ("out_of_order", 3, v3)
    assert f"stored later, at version {v6}" in problem["message"]
    assert reports["demo"]["ok"]


def test_rows_cut_off_at_the_end_are_caught_by_the_command_receipts(books, store_url):
    last = books.cooperative("demo").version
    delete_row(books, "demo", last)  # the 2021 entry 11: the chain itself still ends cleanly at 10
    status, reports, _ = run_verify(store_url)
    problem = reports["demo"]["problem"]
    assert status == 1 and (problem["kind"], problem["number"]) == ("missing_entries", 11)
    assert reports["demo"]["last_number"] == 10


def test_a_forged_seal_is_caught_although_the_closing_entry_itself_is_intact(books, store_url):
    edit_state(books, "demo", 10, lambda payload: payload.update(head_hash="0" * 64))
    status, reports, _ = run_verify(store_url)
    problem = reports["demo"]["problem"]
    assert status == 1 and (problem["kind"], problem["number"]) == ("sealed_head_mismatch", 10)


def test_a_payload_that_no_longer_decodes_is_reported_not_crashed_on(books, store_url):
    version = version_of(books, "demo", 2)
    topic, _state = read_row(books, "demo", version)
    write_row(books, "demo", version, topic, b'{"postings": [')
    status, reports, _ = run_verify(store_url)
    problem = reports["demo"]["problem"]
    assert status == 1 and (problem["kind"], problem["version"]) == ("undecodable", version)


# ---------------------------------------------------------------- the event chain: every event, heads, adoption


def test_the_demo_with_its_federation_verifies_clean_and_its_heads_check(store_url):
    """Every store the program writes verifies: the demo's six cooperatives, the federation's receipt
    naming the founders' seals included (it used to report missing_entries)."""
    demo = CliRunner().invoke(cli, ["--database-url", store_url, "demo"])
    assert demo.exit_code == 0, demo.output
    status, reports, text = run_verify(store_url)
    assert status == 0, text
    assert len(reports) == 6 and all(r["ok"] for r in reports.values())
    federation = reports["grappe-numerique-occitanie"]
    head = federation["head"]
    assert int(head.split(":")[0]) == federation["events"] and len(head.split(":")[1]) == 64
    status, _, text = run_verify(store_url, "--coop", "grappe-numerique-occitanie", "--head", head)
    assert status == 0 and f"head {head} is in this store" in text
    years = CliRunner().invoke(cli, ["--database-url", store_url, "fiscal-years", "--coop", "assoc-garrigues", "--json"])
    (closed,) = [y for y in json.loads(years.stdout)["fiscal_years"] if y["status"] == "closed"]  # the head its closing sealed
    status, _, text = run_verify(store_url, "--coop", "assoc-garrigues", "--head", closed["event_head"])
    assert status == 0 and closed["event_head"] in text
    table = CliRunner().invoke(cli, ["--database-url", store_url, "--lang", "en", "fiscal-years", "--coop", "assoc-garrigues"])
    assert table.exit_code == 0 and "closed" in table.output and closed["event_head"].split(":")[0] in table.output
    status, reports, _ = run_verify(store_url, "--coop", "mednum-scic", "--head", head)  # another cooperative's head
    assert status == 1 and reports["mednum-scic"]["problem"]["kind"] == "head_mismatch"
    for wrong in (["--head", head], ["--coop", "mednum-scic", "--head", "12"]):
        result = CliRunner().invoke(cli, ["--database-url", store_url, "verify", *wrong])
        assert result.exit_code == 2 and ("--coop" in result.output or "N:HASH" in result.output), result.output


def test_a_payment_amount_beside_its_postings_or_an_admission_is_covered(books, store_url):
    """The entry chain hashes kind, dates, label and postings; a FeePaid's amount_cents beside its
    postings, or any non-financial event, is covered by the event chain only."""
    version = version_of(books, "demo", 4)  # entry 4: alice pays 40.00 of her 2020 fee
    topic, state = read_row(books, "demo", version)
    payload = json.loads(state)
    write_row(books, "demo", version, topic, json.dumps({**payload, "amount_cents": 100_00}, separators=(",", ":")).encode())
    status, reports, text = run_verify(store_url)
    problem = reports["demo"]["problem"]
    assert status == 1 and (problem["kind"], problem["number"], problem["version"]) == ("event_hash_mismatch", 4, version)
    assert "FeePaid" in problem["message"] and "BROKEN demo: entry 4" in text
    write_row(books, "demo", version, topic, state)
    admitted = next(
        e.originator_version
        for e in books.app.events.get(coop_id("demo"))
        if type(e).__name__ == "MemberAdmitted" and e.member_id == "alice"
    )  # no entry
    topic, state = read_row(books, "demo", admitted)
    assert b'"founders"' in state
    write_row(books, "demo", admitted, topic, state.replace(b'"founders"', b'"partners"'))
    status, reports, _ = run_verify(store_url)
    assert status == 1 and reports["demo"]["problem"]["version"] == admitted and reports["demo"]["problem"]["number"] is None


def test_an_edited_receipt_is_named(books, store_url):
    from ledger.app import receipt_id

    table = books.app.recorder.events_table_name
    rid = receipt_id("scic", _a_receipt_key(books, "scic"))
    key = (rid.hex if books.db.dialect == "sqlite" else rid, 1)
    with books.db.read() as tx:
        ((state,),) = tx.execute(f"SELECT state FROM {table} WHERE originator_id = ? AND originator_version = ?", key)  # noqa: S608
    with books.db.transaction() as tx:
        tx.execute_one(
            f"UPDATE {table} SET state = ? WHERE originator_id = ? AND originator_version = ?",  # noqa: S608
            (bytes(state).replace(b'"journal_numbers":[', b'"journal_numbers":[99,'), *key),
        )
    status, reports, _ = run_verify(store_url)
    assert status == 1 and reports["scic"]["problem"]["kind"] == "receipt_hash_mismatch" and reports["demo"]["ok"]


def _a_receipt_key(ledger: Ledger, slug: str) -> str:
    """The idempotency key of the cooperative's first recorded entry (its receipt names it)."""
    events = list(ledger.app.events.get(coop_id(slug)))
    return next(e.idempotency_key for e in events if getattr(e, "journal_number", None) == 1)


def test_a_store_written_before_the_event_chain_is_adopted_once_and_then_guarded(books, store_url):
    """An upgrade commits to what is stored, never rewrites it: opening a store without the chain's
    tables links every stored event once and says when; from then on an edit is caught."""
    from ledger.chain import ADOPTIONS_TABLE, CHAIN_TABLE

    with books.db.transaction() as tx:
        tx.execute(f"DROP TABLE {CHAIN_TABLE}")
        tx.execute(f"DROP TABLE {ADOPTIONS_TABLE}")
    upgraded = Ledger(StoreConfig.from_url(store_url))
    try:
        with upgraded.db.read() as tx:
            ((events,),) = tx.execute(f"SELECT COUNT(*) FROM {books.app.recorder.events_table_name}")
            ((adopted,),) = tx.execute(f"SELECT events FROM {ADOPTIONS_TABLE}")
        assert adopted == events > 0
        status, reports, text = run_verify(store_url)
        assert status == 0 and "adopted on" in text and f"over the {events} events" in text
        ok(upgraded, admit("demo", "dave", "users", date(2021, 3, 1)))  # written after: linked on from the adopted links
        assert run_verify(store_url)[0] == 0
    finally:
        upgraded.close()
    again = Ledger(StoreConfig.from_url(store_url))  # the table exists now: no second adoption
    try:
        with again.db.read() as tx:
            assert len(tx.execute(f"SELECT * FROM {ADOPTIONS_TABLE}")) == 1
    finally:
        again.close()
    edit_state(books, "demo", 6, lambda payload: payload.update(label="autre libellé"))
    assert run_verify(store_url)[0] == 1


def test_a_write_after_a_removed_link_is_refused_and_writes_nothing(books, store_url):
    """The recorder links each new event to the stored link before it; when that link is gone (the
    store was changed outside the program) it refuses the save whole, events and receipt."""
    from ledger.chain import CHAIN_TABLE, ChainError

    last = books.cooperative("demo").version
    originator = coop_id("demo").hex if books.db.dialect == "sqlite" else coop_id("demo")
    with books.db.transaction() as tx:
        tx.execute_one(f"DELETE FROM {CHAIN_TABLE} WHERE originator_id = ? AND originator_version = ?", (originator, last))  # noqa: S608
    position = books.position()
    with pytest.raises(ChainError, match="no link"):
        books.execute(admit("demo", "dave", "users", date(2021, 3, 1)), "after-the-hole")
    assert books.position() == position
    fresh = Ledger(StoreConfig.from_url(store_url))
    try:
        assert fresh.cooperative("demo").version == last  # nothing of the refused command was stored
    finally:
        fresh.close()


def test_an_unknown_cooperative_is_named_as_unknown_not_as_broken(books, store_url):
    result = CliRunner().invoke(cli, ["--database-url", store_url, "verify", "--coop", "dmeo"])
    assert result.exit_code == 1 and "no cooperative 'dmeo'" in result.output and "demo, scic" in result.output
    assert "BROKEN" not in result.output
