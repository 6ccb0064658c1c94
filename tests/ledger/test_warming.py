"""The write model's cache filled before commands need it (ledger/warming.py): a cold cooperative
is loaded by its own caller before its command joins a group, and a starting server loads the
cooperatives that wrote last (both stores)."""

from __future__ import annotations

import threading
import time
from datetime import date

from domain.cooperative import coop_id
from ledger import warming
from ledger.service import Ledger
from tests.builders import admit, found_association, ok

DAY = date(2020, 2, 1)


def _cached(ledger: Ledger, slug: str) -> bool:
    return coop_id(slug) in ledger.app.repository.cache.cache  # type: ignore[union-attr]


def test_a_cold_cooperative_is_loaded_before_its_command_is_queued(ledger, make_ledger):
    ok(ledger, found_association("cold"))
    before = ledger.cooperative("cold").version
    other = make_ledger()  # another process: "cold" is in none of its caches
    assert not _cached(other, "cold")
    group = other.group
    with group._cv:
        group._busy = True  # the leader's place held: the command stays queued
    results = []
    thread = threading.Thread(target=lambda: results.append(other.execute(admit("cold", "m1", "users", DAY), "admit-m1", "t")))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not group._queue and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(group._queue) == 1
        # Loaded by the caller: the group that saves it will not hold other commands for the load.
        assert _cached(other, "cold")
    finally:
        with group._cv:
            group._busy = False
            group._cv.notify_all()
        thread.join(10)
    assert [r.accepted for r in results] == [True]
    assert other.cooperative("cold").version == ledger.cooperative("cold").version > before  # saved, seen by both


def test_warm_recent_loads_the_cooperatives_that_wrote_last_the_latest_last(ledger, make_ledger, monkeypatch):
    for slug in ("old", "mid", "new"):
        ok(ledger, found_association(slug))
    founded = ledger.position()
    ok(ledger, admit("mid", "m1", "users", DAY))
    ok(ledger, admit("new", "m1", "users", DAY))
    # The log's positions after the foundings hold "mid" then "new" (an admission and its receipt each), not "old".
    monkeypatch.setattr(warming, "RECENT_POSITIONS", ledger.position() - founded)
    fresh = make_ledger()
    # Chosen latest first, loaded latest last: the cache forgets its least recently used first.
    assert warming.warm_recent(fresh) == ["mid", "new"]
    assert _cached(fresh, "new") and _cached(fresh, "mid") and not _cached(fresh, "old")
    small = make_ledger()
    monkeypatch.setattr(small.app.repository.cache, "maxsize", 1)
    assert warming.warm_recent(small) == ["new"]  # no more than the cache holds
    stopped = threading.Event()
    stopped.set()
    assert warming.warm_recent(make_ledger(), stop=stopped) == []  # a server stopping


def test_warm_recent_names_the_cooperatives_by_their_founding_events_not_the_views(ledger, make_ledger, monkeypatch):
    """A server started right after `coopledger record` has no views yet (none projected here): the
    founding events in the store name the cooperatives that wrote last, and they are warmed."""
    for slug in ("old", "mid", "new"):
        ok(ledger, found_association(slug))
    monkeypatch.setattr(warming, "RECENT_POSITIONS", 2)  # "new"'s founding and its receipt
    assert warming.warm_recent(make_ledger()) == ["new"]
    monkeypatch.setattr(warming, "RECENT_POSITIONS", 10**6)
    fresh = make_ledger()
    assert warming.warm_recent(fresh) == ["old", "mid", "new"]  # the latest loaded last
    assert all(_cached(fresh, slug) for slug in ("old", "mid", "new"))
    monkeypatch.setattr(warming, "MAX_LOOKUPS", 1)
    assert warming.warm_recent(make_ledger()) == ["new"]  # no more streams named than the bound


def test_load_all_fast_forwards_the_cached_cooperatives_to_what_another_process_wrote(ledger, make_ledger, monkeypatch):
    for slug in ("x", "y", "z"):
        ok(ledger, found_association(slug))
    other = make_ledger()
    assert {s: a.version for s, a in warming.load_all(other, ["x", "y", "z"]).items()} == {
        s: ledger.cooperative(s).version for s in ("x", "y", "z")
    }
    ok(ledger, admit("x", "m1", "users", DAY))
    ok(ledger, admit("y", "m1", "users", DAY))
    ok(ledger, admit("y", "m2", "users", DAY))
    asked: list[object] = []
    if other.db.dialect == "postgres":  # one statement for all: eventsourcing's per-aggregate read is not used
        store = other.app.repository.event_store
        monkeypatch.setattr(store, "get", lambda *a, **k: asked.append(k.get("originator_id")) or [])
    loaded = warming.load_all(other, ["x", "y", "z", "nowhere"])
    assert {s: a and a.version for s, a in loaded.items()} == {
        "x": ledger.cooperative("x").version,
        "y": ledger.cooperative("y").version,
        "z": ledger.cooperative("z").version,
        "nowhere": None,
    }
    assert set(loaded["y"].members) == {"m1", "m2"} == set(ledger.cooperative("y").members)
    assert asked == ([coop_id("nowhere")] if other.db.dialect == "postgres" else [])  # only the cold load
