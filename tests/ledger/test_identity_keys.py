"""Sealed identities in the store, on both stores (docs/decisions/0013-forgetting-a-person.md).

The stored JSON holds no name; a new process opens it with the person's key; a value moved to
another person does not open; forgetting deletes the key in the event's transaction, and
`verify` notices a key that was changed or deleted without a PersonForgotten.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest
from cryptography.exceptions import InvalidTag

from domain.identities import ForgetPerson
from domain.membership import AdmitMember, ResignMember
from domain.personal import pseudonym
from ledger.chain import EVENTS_TABLES
from ledger.identity_keys import KeyRing
from ledger.verify import verify_store
from tests.builders import found_association, ok

NAME = "Hélène Scellée"


def _admitted(ledger: Any) -> None:
    ok(ledger, found_association("demo"))
    ok(ledger, AdmitMember("demo", "m-9", NAME, "person", "users", date(2020, 2, 1)))


def _state(ledger: Any, topic_suffix: str) -> dict[str, Any]:
    table = EVENTS_TABLES[ledger.db.dialect]
    with ledger.db.read() as tx:
        rows = tx.execute(f"SELECT state FROM {table} WHERE topic = ?", (f"coopledger:{topic_suffix}",))  # noqa: S608
    assert len(rows) == 1
    return orjson.loads(bytes(rows[0][0]))


def _keys(ledger: Any) -> list[tuple[str, str]]:
    with ledger.db.read() as tx:
        return [(r[0], r[1]) for r in tx.execute("SELECT coop, person_id FROM person_keys ORDER BY coop, person_id")]


def test_the_store_holds_the_name_sealed_and_a_new_process_opens_it(ledger, make_ledger):
    _admitted(ledger)
    stored = _state(ledger, "MemberAdmitted")
    assert set(stored["name"]) == {"_sealed_", "_data_"} and stored["name"]["_sealed_"] == "m-9"
    assert NAME.encode() not in orjson.dumps(stored)
    assert _keys(ledger) == [("demo", "m-9")]
    other = make_ledger()  # another process: its own cache, the key read from the store
    assert other.cooperative("demo").members["m-9"].name == NAME


def test_a_sealed_value_does_not_open_for_another_person_or_field(ledger):
    _admitted(ledger)
    sealed = _state(ledger, "MemberAdmitted")["name"]
    ring = KeyRing(ledger.db)
    assert ring.open("demo", "m-9", "name", sealed) == NAME
    with pytest.raises(InvalidTag):
        ring.open("demo", "m-9", "donor_name", sealed)  # the field is bound to the ciphertext
    ring.key_for_sealing("demo", "m-8")
    with pytest.raises(AssertionError):
        ring.open("demo", "m-8", "name", sealed)  # sealed for m-9, not m-8


def test_forgetting_deletes_the_key_with_the_event_and_verify_still_passes(ledger, make_ledger):
    _admitted(ledger)
    ok(ledger, ResignMember("demo", "m-9", date(2020, 3, 1)))
    ok(ledger, ForgetPerson("demo", "m-9", "her request", date.today()))
    assert _keys(ledger) == []
    assert ledger.cooperative("demo").members["m-9"].name == pseudonym("m-9")
    assert make_ledger().cooperative("demo").members["m-9"].name == pseudonym("m-9")  # a replay agrees
    (report,) = verify_store(ledger, "demo")
    assert report.ok, report.as_dict()


def _set_key(ledger: Any, key_b64: str | None) -> None:
    with ledger.db.transaction() as tx:
        if key_b64 is None:
            tx.execute("DELETE FROM person_keys WHERE coop = ? AND person_id = ?", ("demo", "m-9"))
        else:
            tx.execute("UPDATE person_keys SET key_b64 = ? WHERE coop = ? AND person_id = ?", (key_b64, "demo", "m-9"))


def test_verify_names_a_changed_key_and_a_key_deleted_without_a_forget(ledger):
    _admitted(ledger)
    with ledger.db.read() as tx:
        (original,) = tx.execute("SELECT key_b64 FROM person_keys WHERE coop = ? AND person_id = ?", ("demo", "m-9"))[0]
    _set_key(ledger, "A" * 43 + "=")  # another 32-byte key
    (report,) = verify_store(ledger, "demo")
    assert not report.ok and report.problem.kind == "identity_unreadable", report.as_dict()
    _set_key(ledger, None)
    (report,) = verify_store(ledger, "demo")
    assert not report.ok and report.problem.kind == "identity_key_missing", report.as_dict()
    with ledger.db.transaction() as tx:
        tx.execute("INSERT INTO person_keys (coop, person_id, key_b64) VALUES (?, ?, ?)", ("demo", "m-9", original))
    (report,) = verify_store(ledger, "demo")
    assert report.ok, report.as_dict()


def test_forgetting_deletes_the_snapshots_that_held_the_name(make_ledger, monkeypatch):
    from ledger import snapshots

    monkeypatch.setattr(snapshots, "SNAPSHOT_EVERY_EVENTS", 3)  # one at the resignation, none due at the erasure
    ledger = make_ledger()
    _admitted(ledger)
    ok(ledger, ResignMember("demo", "m-9", date(2020, 3, 1)))
    table = snapshots.SNAPSHOT_TABLES[ledger.db.dialect]

    def snapshot_versions() -> list[int]:
        with ledger.db.read() as tx:
            return [int(r[0]) for r in tx.execute(f"SELECT originator_version FROM {table}")]  # noqa: S608

    assert len(snapshot_versions()) == 1  # the name is in it (pickled): it must not outlive the key
    ok(ledger, ForgetPerson("demo", "m-9", "her request", date.today()))
    assert snapshot_versions() == []  # deleted with the key, in the erasure's transaction
    for n in range(3):
        ok(ledger, AdmitMember("demo", f"m-1{n}", "Autre", "person", "users", date(2020, 4, 1)))
    assert snapshot_versions(), "a snapshot is taken after the erasure"
    cold = make_ledger().cooperative("demo")  # loaded from that snapshot
    assert cold.members["m-9"].name == pseudonym("m-9")
    (report,) = verify_store(ledger, "demo")
    assert report.ok, report.as_dict()


def test_prefetch_reads_many_keys_at_once_and_caches_them_as_key_does(ledger, monkeypatch):
    _admitted(ledger)
    ok(ledger, AdmitMember("demo", "m-10", "Autre Personne", "person", "users", date(2020, 2, 1)))
    fresh = KeyRing(ledger.db)  # another process: nothing cached
    fresh.forget("demo", "m-10")  # read as forgotten before the prefetch: stays so
    fresh.prefetch([("demo", "m-9"), ("demo", "m-10"), ("demo", "never-sealed"), ("demo", "m-9")])

    def no_more_reads(coop: str, person: str) -> bytes:
        raise AssertionError(f"read {coop}/{person} again")

    monkeypatch.setattr(fresh, "_stored", no_more_reads)
    assert fresh.key("demo", "m-9") == KeyRing(ledger.db).key("demo", "m-9") != b""
    assert fresh.key("demo", "m-10") == b""
    assert fresh.key("demo", "never-sealed") == b""
    assert fresh.open("demo", "m-9", "name", _sealed_of(ledger, "m-9")) == NAME


def _sealed_of(ledger: Any, member_id: str) -> dict[str, str]:
    table = EVENTS_TABLES[ledger.db.dialect]
    with ledger.db.read() as tx:
        rows = tx.execute(f"SELECT state FROM {table} WHERE topic = ?", ("coopledger:MemberAdmitted",))  # noqa: S608
    states = [orjson.loads(bytes(r[0])) for r in rows]
    return next(s["name"] for s in states if s["member_id"] == member_id)
