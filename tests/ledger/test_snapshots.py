"""Snapshots of the Cooperative aggregate (ledger/snapshots.py), on both stores.

A snapshot is a cache: the state loaded from the latest snapshot and the events after it must be
the state replayed from event 1, attribute by attribute (ledger/snapshot_check.py `dump`), for a
history with every family (the demo: fees, payments, shares, subscriptions, governance, reversals,
donations, sensors, a federation...), after a second process went on writing from a snapshot. A
wrong snapshot fails `verify`; an unusable one is ignored; backups carry them.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from domain.cooperative import coop_id
from ledger import snapshots
from ledger.backup import backup, restore
from ledger.commands import parse_command
from ledger.demo import demo_commands
from ledger.service import Ledger
from ledger.snapshot_check import canonical, check_snapshot, dump, founded_slugs, replay, stale_snapshot
from ledger.store import StoreConfig
from ledger.verify import verify_store

EVERY = 13  # a snapshot every 13 events: several per cooperative of the demo, at odd versions
BATCH = 17
# The shape of the state (classes and their attributes) that STATE_SCHEMA describes. A change of
# the aggregate's state fails here: bump STATE_SCHEMA in ledger/snapshots.py (snapshots of the old
# shape are then ignored and retaken) and pin the new shape's hash beside it.
PINNED_SHAPES = {
    1: "020107d47190238a719bab7f288144be4f07f4c24e94b61d20e895e895d8b3ff",
    2: "8d7210aedc8915e61af811010702f296ab3c37c917904c5d51d7865c04ee8f6f",  # identities; the journal's party balances
    3: "e08e0e4bbf8967ea85be74b82ba3d1b73576480c009c4587082f3862972aae8b",  # SEPA; bank; tax receipts
    4: "25aa2b162d09704092845654958b4cef7a4ce4633ece6f27e265836da9c45587",  # a host's moves as two sorted arrays
}


@pytest.fixture(autouse=True)
def small_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "SNAPSHOT_EVERY_EVENTS", EVERY)


def _record(ledger: Ledger, commands: list[Any]) -> None:
    for start in range(0, len(commands), BATCH):
        results = ledger.execute_batch([(c, k, a or "demo") for c, k, a in commands[start : start + BATCH]])
        assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]


def _demo() -> tuple[list[Any], list[str]]:
    parsed = [parse_command(c) for c in demo_commands()]
    return parsed, sorted({c.coop for c, _k, _a in parsed})


def _loaded_equals_replayed(ledger: Ledger, slug: str) -> int:
    """Loads the cooperative cold (snapshot + events), compares it with a replay from event 1;
    returns the version of the snapshot the load used."""
    loaded = ledger.app.repository.get(coop_id(slug))
    used = ledger.app.snapshots.latest[coop_id(slug)]  # type: ignore[union-attr]
    replayed = replay(ledger.app, coop_id(slug), loaded.version)
    assert replayed.version == loaded.version
    assert dump(loaded) == dump(replayed), slug
    return used


def _shape(value: Any, found: set[str]) -> None:
    """Every class in the state with its attribute names, from the canonical dump."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and ":" in value[0]:
        kind, body = value
        if isinstance(body, list) and body and all(isinstance(x, list) and len(x) == 2 and isinstance(x[0], str) for x in body):
            if not kind.startswith(("builtins:", "collections:")):
                found.add(f"{kind}({','.join(name for name, _ in body)})")
    if isinstance(value, list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            _shape(item, found)


def test_snapshot_and_events_load_the_state_a_replay_gives(make_ledger: Callable[[], Ledger]):
    parsed, slugs = _demo()
    half = len(parsed) // 2
    _record(make_ledger(), parsed[:half])
    second = make_ledger()  # another process: goes on from the snapshots the first one took
    _record(second, parsed[half:])
    assert second.app.snapshots.latest[coop_id("cluster-numerique-sud")] > 0  # type: ignore[union-attr]

    cold = make_ledger()
    used = {slug: _loaded_equals_replayed(cold, slug) for slug in slugs}
    versions = {slug: cold.cooperative(slug).version for slug in slugs}
    for slug in slugs:  # the latest snapshot: at most EVERY - 1 events to replay
        assert versions[slug] - used[slug] < EVERY, (slug, versions[slug], used[slug])
    assert used["cluster-numerique-sud"] > 200 and used["mednum-scic"] > 100
    assert all(check_snapshot(cold, slug) is None for slug in slugs)

    with cold.db.read() as tx:
        table = snapshots.SNAPSHOT_TABLES[cold.db.dialect]
        per_coop = tx.execute(f"SELECT COUNT(*) FROM {table} GROUP BY originator_id")  # noqa: S608
        links = tx.execute("SELECT COUNT(*) FROM event_hashes")[0][0]
        events = tx.execute(f"SELECT COUNT(*) FROM {cold.app.recorder.events_table_name}")[0][0]  # type: ignore[attr-defined]
    assert sorted(n for (n,) in per_coop) == [1] * len([s for s in slugs if used[s]])  # older ones deleted
    assert links == events == cold.position()  # snapshots: neither in the chain nor in the log
    notifications = cold.app.recorder.select_notifications(start=1, limit=events + 10)
    assert not [n for n in notifications if "Snapshot" in n.topic]

    shapes: set[str] = set()
    for slug in slugs:
        _shape(dump(cold.cooperative(slug)), shapes)
    digest = hashlib.sha256("\n".join(sorted(shapes)).encode()).hexdigest()
    assert PINNED_SHAPES.get(snapshots.STATE_SCHEMA) == digest, f"new shape {digest}:\n" + "\n".join(sorted(shapes))


def _store_fake(ledger: Ledger, slug: str, state: dict[str, Any]) -> None:
    """Replaces the cooperative's stored snapshot's state (as stored) with `state`."""
    stored = ledger.app.snapshots.stored(coop_id(slug))  # type: ignore[union-attr]
    fake = snapshots.CooperativeSnapshot(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        timestamp=stored.timestamp,
        topic=stored.topic,
        state=state,
    )
    raw = ledger.app.mapper.to_stored_event(fake).state
    key = stored.originator_id.hex if ledger.db.dialect == "sqlite" else stored.originator_id
    with ledger.db.transaction() as tx:
        tx.execute(
            f"UPDATE {snapshots.SNAPSHOT_TABLES[ledger.db.dialect]} SET state = ? WHERE originator_id = ?",  # noqa: S608
            (raw, key),
        )


def _problems(ledger: Ledger) -> dict[str, str]:
    return {r.coop: r.problem.kind for r in verify_store(ledger) if r.problem is not None}


def test_verify_fails_on_a_snapshot_that_differs_from_the_events(make_ledger: Callable[[], Ledger]):
    parsed, _slugs = _demo()
    ledger = make_ledger()
    _record(ledger, parsed)
    assert _problems(ledger) == {}

    # A well-formed snapshot that says one member fewer (an edit, or a bug in the write path).
    at = ledger.app.snapshots.stored(coop_id("mednum-scic")).originator_version  # type: ignore[union-attr]
    coop = replay(ledger.app, coop_id("mednum-scic"), at)
    state = {k: v for k, v in vars(coop).items() if k not in ("_id", "_version", "_pending_events")}
    state["members"] = dict(list(state["members"].items())[1:])
    _store_fake(ledger, "mednum-scic", {"schema": snapshots.STATE_SCHEMA, "data": snapshots.encode_state(state)})
    found = verify_store(make_ledger(), only="mednum-scic")[0]
    assert found.problem is not None and found.problem.kind == "snapshot_mismatch", found.problem
    assert "'members'" in found.problem.message
    assert _problems(make_ledger()) == {"mednum-scic": "snapshot_mismatch"}  # the others still pass

    # Undecodable: verify says so; a load ignores it and replays the events.
    _store_fake(ledger, "mednum-scic", {"schema": snapshots.STATE_SCHEMA, "data": "bm90IGEgcGlja2xl"})
    assert _problems(make_ledger()) == {"mednum-scic": "snapshot_undecodable"}
    cold = make_ledger()
    assert _loaded_equals_replayed(cold, "mednum-scic") == 0


def test_a_snapshot_naming_a_function_is_refused_not_run(make_ledger: Callable[[], Ledger]):
    parsed, _slugs = _demo()
    ledger = make_ledger()
    _record(ledger, parsed[:60])
    import base64
    import zlib

    evil = base64.b64encode(zlib.compress(pickle.dumps({"x": print}))).decode()  # builtins.print: not allowed
    _store_fake(ledger, "cluster-numerique-sud", {"schema": snapshots.STATE_SCHEMA, "data": evil})
    problem = check_snapshot(make_ledger(), "cluster-numerique-sud")
    assert problem is not None and problem[0] == "snapshot_undecodable" and "builtins.print" in problem[2]


def test_a_snapshot_of_another_schema_is_ignored_then_replaced(make_ledger: Callable[[], Ledger], monkeypatch):
    parsed, _slugs = _demo()
    first = make_ledger()
    _record(first, parsed[:200])
    old = first.app.snapshots.stored(coop_id("cluster-numerique-sud"))  # type: ignore[union-attr]
    current = snapshots.STATE_SCHEMA
    assert old is not None and old.state["schema"] == current

    monkeypatch.setattr(snapshots, "STATE_SCHEMA", current + 1)  # the next program changed the state's shape
    later = make_ledger()
    assert _loaded_equals_replayed(later, "cluster-numerique-sud") == 0  # ignored: replayed from event 1
    assert check_snapshot(later, "cluster-numerique-sud") is None  # not an error: no load uses it
    _record(later, parsed[200:])
    new = later.app.snapshots.stored(coop_id("cluster-numerique-sud"))  # type: ignore[union-attr]
    assert new.state["schema"] == current + 1 and new.originator_version > old.originator_version
    assert _loaded_equals_replayed(make_ledger(), "cluster-numerique-sud") == new.originator_version


def test_the_snapshots_command_retakes_what_an_upgrade_left_unusable(make_ledger, store_url: str, monkeypatch):
    from click.testing import CliRunner

    from cli.main import build

    parsed, slugs = _demo()
    _record(make_ledger(), parsed)
    monkeypatch.setattr(snapshots, "STATE_SCHEMA", snapshots.STATE_SCHEMA + 1)  # an upgrade changed the state's shape
    later = make_ledger()
    assert founded_slugs(later) == slugs
    found = {slug: stale_snapshot(later, slug) for slug in slugs}
    stale = {slug: s for slug, s in found.items() if s is not None}
    small = [slug for slug, s in found.items() if s is None]  # fewer events than one interval: no snapshot due
    assert len(stale) >= 4 and all(since == 0 for _v, since in stale.values()), found  # each cold load would replay it all
    for slug in small:
        assert len(list(later.app.events.get(coop_id(slug)))) < EVERY, slug

    out = CliRunner().invoke(build(), ["--database-url", store_url, "snapshots"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert f"{len(stale)} snapshot(s) taken, {len(small)} current" in out.output, out.output
    for slug, (version, _since) in stale.items():
        stored = later.app.snapshots.stored(coop_id(slug))  # type: ignore[union-attr]
        assert stored.state["schema"] == snapshots.STATE_SCHEMA and stored.originator_version == version
        assert check_snapshot(later, slug) is None
        assert stale_snapshot(later, slug) is None
        assert _loaded_equals_replayed(make_ledger(), slug) == version  # a cold load starts from it
    again = CliRunner().invoke(build(), ["--database-url", store_url, "snapshots"], catch_exceptions=False)
    assert f"0 snapshot(s) taken, {len(slugs)} current" in again.output, again.output


def test_the_snapshots_command_fails_when_a_snapshot_is_not_stored(make_ledger, store_url: str, monkeypatch):
    from click.testing import CliRunner

    from cli.main import build

    parsed, _slugs = _demo()
    _record(make_ledger(), parsed)
    monkeypatch.setattr(snapshots, "STATE_SCHEMA", snapshots.STATE_SCHEMA + 1)

    def broken(state: dict[str, Any]) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(snapshots, "encode_state", broken)  # the write path's `take` logs this and goes on
    out = CliRunner().invoke(build(), ["--database-url", store_url, "snapshots"])
    assert out.exit_code == 1, out.output
    assert "was not stored" in out.output and "taken" not in out.output.splitlines()[-1], out.output


def test_backup_carries_the_snapshots_and_the_restored_store_verifies(store_factory, tmp_path: Path):
    parsed, slugs = _demo()
    source = store_factory.new()
    ledger = Ledger(StoreConfig.from_url(source))
    try:
        _record(ledger, parsed)
        file = backup(ledger.config, tmp_path / "books.backup").path
    finally:
        ledger.close()
    target = store_factory.new()
    restore(StoreConfig.from_url(target), file)
    restored = Ledger(StoreConfig.from_url(target))
    try:
        assert _loaded_equals_replayed(restored, "cluster-numerique-sud") > 200  # loaded from the restored snapshot
        assert {r.coop: r.ok for r in verify_store(restored)} == dict.fromkeys(slugs, True)
    finally:
        restored.close()


def test_canonical_dump_tells_types_and_order_apart():
    assert canonical((1, 2)) != canonical([1, 2])
    assert canonical({"a": 1, "b": 2}) != canonical({"b": 2, "a": 1})  # insertion order is state
    assert canonical({3, 1, 2}) == canonical({2, 3, 1})  # set order is not
    from decimal import Decimal

    assert canonical(Decimal("1.0")) != canonical(Decimal("1.00")) != canonical("1.00")
    assert json.dumps(canonical(snapshots.decode_state(snapshots.encode_state({"d": Decimal("2.50")})))) == json.dumps(
        canonical({"d": Decimal("2.50")})
    )


def test_a_hosts_moves_come_back_as_the_same_arrays_and_objects():
    from datetime import date

    from domain.sensors_state import HostCredits, SensorsState

    state = SensorsState()
    host = HostCredits(origin=737_000)
    for i in range(101):  # not in date order
        host.move(date.fromordinal(737_000 + 7 * i % 101), (-1) ** i * 2**40)
    state.hosts["h1"] = host
    back = snapshots.decode_state(snapshots.encode_state({"sensors": state, "same": host}))
    assert back["same"] is back["sensors"].hosts["h1"]  # one object, as before
    assert back["same"].move_days == host.move_days and back["same"].move_minor == host.move_minor
    assert back["same"].balance_from(date.fromordinal(737_050)) == host.balance_from(date.fromordinal(737_050))
    assert canonical(back) == canonical({"sensors": state, "same": host})


def test_a_snapshot_that_fails_loses_the_cache_not_the_command(make_ledger: Callable[[], Ledger], monkeypatch):
    parsed, _slugs = _demo()
    ledger = make_ledger()

    def broken(state: dict[str, Any]) -> str:
        raise pickle.PicklingError("cannot pickle this state")

    monkeypatch.setattr(snapshots, "encode_state", broken)
    _record(ledger, parsed[:60])  # every command accepted, its events saved
    assert ledger.app.snapshots.stored(coop_id("cluster-numerique-sud")) is None  # type: ignore[union-attr]
    assert _loaded_equals_replayed(make_ledger(), "cluster-numerique-sud") == 0


def test_snapshots_through_the_failover_factory(store_url: str):
    if not store_url.startswith("postgresql"):
        pytest.skip("the failover factory is PostgreSQL's (ledger/failover.py)")
    from ledger.failover import FailoverPostgresFactory

    url = f"{store_url}&target_session_attrs=read-write"
    parsed, _slugs = _demo()
    opened = [Ledger(StoreConfig.from_url(url)) for _ in range(2)]
    try:
        writer, reader = opened
        assert isinstance(writer.app.factory, FailoverPostgresFactory)
        _record(writer, parsed[:60])
        assert _loaded_equals_replayed(reader, "cluster-numerique-sud") > 0  # stored and read through its pool
    finally:
        for ledger in opened:
            ledger.close()
