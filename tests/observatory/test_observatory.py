"""The observatory's JSON against figures worked out by hand (tests/observatory/story.py), who may
see it (public, private, another cooperative's key, the page's cookie), and its projection
rebuilt from zero equal to the one built event by event. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from ledger.commands import parse_command
from ledger.store import StoreConfig
from projections.observatory import ObservatoryProjection
from projections.observatory_cache import CACHE
from projections.observatory_indicators import observatory
from projections.runner import ProjectionRunner
from tests.conftest import migrates_the_store
from tests.observatory import story


def _by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ind["id"]: ind for ind in report["indicators"]}


@pytest.fixture
@migrates_the_store
def app_env(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        svc = app.state.services
        tokens = {role: create_key(svc.ledger.db, role=role, coops=[story.COOP])[1] for role in ("admin", "treasurer", "reader")}
        tokens["other"] = create_key(svc.ledger.db, role="admin", coops=["elsewhere"])[1]
        results = story.record(svc.ledger)
        assert svc.runner.wait_for(results[-1].position or 0, 10.0)
        yield {"client": client, "svc": svc, "tokens": tokens}


def _get(env: dict[str, Any], token: str | None, path: str = f"/v1/coops/{story.COOP}/observatory", **params: Any):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return env["client"].get(path, params=params, headers=headers, follow_redirects=False)


def test_indicators_match_the_figures_worked_out_by_hand(app_env):
    r = _get(app_env, app_env["tokens"]["reader"], as_of=story.AS_OF)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["months"] == story.MONTHS and report["as_of"] == story.AS_OF and report["public"] is False
    assert report["position"] >= report["last_event"]["position"] > 0 and report["last_event"]["recorded_at"]
    indicators = _by_id(report)
    assert list(indicators) == [
        "members",
        "fees",
        "fund",
        "calls",
        "subsidies",
        "certifications",
        "subscriptions",
        "sensors",
        "shared_hours",
        "governance",
    ]
    for ident, expected in story.EXPECTED.items():
        got = {k: indicators[ident]["value"][k] for k in expected}
        assert got == expected, ident
        assert indicators[ident]["definition"]["fr"] and indicators[ident]["definition"]["en"], ident
    for (ident, key), expected in story.EXPECTED_SERIES.items():
        series = {s["key"]: s["values"] for s in indicators[ident]["series"]}
        assert series[key] == expected, (ident, key)
    colleges = {c["code"]: c for c in indicators["members"]["value"]["colleges"]}
    assert (colleges["users"]["members"], colleges["users"]["in_good_standing"]) == (1, 1)
    assert (colleges["staff"]["members"], colleges["staff"]["in_good_standing"]) == (2, 0)
    # Only m1 (users) may vote: the empty staff college's 40% goes to users (the default policy).
    weights = {c["code"]: (c["statutory_percent"], c["effective_percent"]) for c in indicators["governance"]["value"]["colleges"]}
    assert weights == {"users": ("60.00", "100.00"), "staff": ("40.00", "0.00")}
    assert [c["member_id"] for c in indicators["certifications"]["value"]["expiring"]] == ["m1"]
    assert indicators["subscriptions"]["value"]["periods"] == [
        {"period": "2025-02", "billed_eur": "79.00", "paid_eur": "79.00"},
        {"period": "2025-03", "billed_eur": "64.00", "paid_eur": "0.00"},
    ]
    structures = {s["structure_id"]: s for s in indicators["shared_hours"]["value"]["structures"]}
    assert (structures["m1"]["logged_hours"], structures["m3"]["logged_hours"]) == ("7.00", "3.50")
    assert Decimal(structures["m1"]["billed_eur"]) + Decimal(structures["m3"]["billed_eur"]) == 280


def test_the_figures_follow_the_day_asked_for(app_env):
    """Before anything was paid, nothing is collected; the series stop at that month."""
    report = _get(app_env, app_env["tokens"]["admin"], as_of="2025-04-05").json()
    indicators = _by_id(report)
    assert report["months"] == story.MONTHS[:4]
    assert indicators["fund"]["value"]["balance_eur"] == "5000.00"
    assert indicators["certifications"]["value"]["certified"] == 1
    assert {s["key"]: s["values"] for s in indicators["fees"]["series"]}["paid_eur"] == ["0.00", "0.00", "0.00", "200.00"]


def test_private_needs_a_key_of_the_cooperative_and_public_needs_none(app_env):
    env, tokens = app_env, app_env["tokens"]
    page, events = f"/observatory/{story.COOP}", f"/observatory/{story.COOP}/events"
    for path in (f"/v1/coops/{story.COOP}/observatory", page, events):
        r = _get(env, None, path)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json"), path
        r = _get(env, tokens["other"], path)
        assert r.status_code == 403 and r.json()["rule"] == "key_coop", path
    assert _get(env, None, "/v1/coops/nowhere/observatory").status_code == 401  # existence is not disclosed
    # Only an admin may publish the indicators.
    body = {"public": True, "effective_date": date.today().isoformat()}
    path = f"/v1/coops/{story.COOP}/commands/SetObservatoryVisibility"
    r = env["client"].post(path, json=body, headers={"Authorization": f"Bearer {tokens['treasurer']}", "Idempotency-Key": "v1"})
    assert r.status_code == 403
    r = env["client"].post(
        path,
        json={**body, "effective_date": (date.today() + timedelta(days=1)).isoformat()},
        headers={"Authorization": f"Bearer {tokens['admin']}", "Idempotency-Key": "v-tomorrow"},
    )
    assert r.status_code == 201
    assert _get(env, tokens["admin"], min_position=r.json()["position"]).json()["public"] is False  # public from tomorrow
    assert _get(env, None).status_code == 401
    r = env["client"].post(path, json=body, headers={"Authorization": f"Bearer {tokens['admin']}", "Idempotency-Key": "v-today"})
    assert r.status_code == 201
    report = _get(env, tokens["admin"], min_position=r.json()["position"]).json()
    assert report["public"] is True
    assert _get(env, None).json()["coop"] == story.COOP
    assert _get(env, tokens["other"]).status_code == 200  # public: anyone, whatever key
    r = _get(env, None, page)
    assert r.status_code == 200 and "/static/vendor/chart.umd.min.js" in r.text and r.headers["cache-control"] == "no-store"
    assert _get(env, None, min_position=1).status_code == 401  # no anonymous waiting, even when public
    assert _get(env, tokens["admin"], min_position=1).status_code == 200  # but a key may wait once it is public
    assert _get(env, "clk_000000000000_" + "x" * 43, min_position=1).status_code == 401  # a valid key


def test_the_page_takes_a_key_once_and_keeps_it_in_an_httponly_cookie(app_env):
    env = app_env
    page = f"/observatory/{story.COOP}"
    assert _get(env, None, page, key="clk_000000000000_" + "x" * 43).status_code == 401
    assert _get(env, None, page, key=env["tokens"]["other"]).status_code == 403
    r = _get(env, None, page, key=env["tokens"]["reader"])
    assert r.status_code == 303 and r.headers["location"] == page  # the key leaves the address bar
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and f"Path={page}" in cookie
    r = _get(env, None, page)  # the test client keeps the cookie, as a browser does
    assert r.status_code == 200 and 'data-coop="obs"' in r.text
    assert _get(env, None, f"/v1/coops/{story.COOP}/observatory").status_code == 401  # never on /v1
    assert env["client"].get("/static/vendor/chart.umd.min.js").text.startswith("/*!\n * Chart.js v4")


def test_rebuild_from_zero_equals_the_projection_built_event_by_event(store_url: str, make_ledger):
    ledger = make_ledger()
    runner = ProjectionRunner(ledger, batch_size=7)  # batches that split the story anywhere
    story.record(ledger, after_each=runner.catch_up)

    def state() -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, Any]]:
        with ledger.db.read() as tx:
            tables = {t: sorted(tx.execute(f"SELECT * FROM {t}")) for t in ObservatoryProjection.tables}  # noqa: S608
        report = observatory(ledger.db, story.COOP, today=date.fromisoformat(story.AS_OF), position=0)
        return tables, report

    incremental = state()
    assert incremental[0]["observatory_months"] and incremental[0]["observatory_entries"]
    runner.rebuild()
    assert state() == incremental


# (command, fields, the indicator it must change, an indicator it must leave cached)
LATER_EVENTS = [
    ("PayFee", {"member_id": "m3", "year": 2025, "amount": "10", "effective_date": "2025-11-02"}, "fees", "fund"),
    (
        "AcceptReadings",
        {"sensor_id": "S1", "period": "2025-11-03", "readings": 100, "effective_date": "2025-11-04"},
        "sensors",
        "members",
    ),
    ("LogSharedHours", {"employee_id": "E1", "structure_id": "m1", "day": "2025-11-05", "hours": "2"}, "shared_hours", "fees"),
    # Not one of the narrow kinds: every indicator is read again.
    (
        "GrantCertification",
        {"certification_id": "CERT3", "member_id": "m2", "effective_date": "2025-11-06"},
        "certifications",
        None,
    ),
]


def test_a_cached_indicator_is_read_again_when_an_event_that_changes_it_arrives(app_env):
    svc = app_env["svc"]
    db, today = svc.ledger.db, date.fromisoformat(story.AS_OF)
    CACHE.clear()
    before = _by_id(observatory(db, story.COOP, today=today, position=0))
    for i, (name, fields, changed, kept) in enumerate(LATER_EVENTS):
        command, key, _ = parse_command({"command": name, "idempotency_key": f"later-{i}", "coop": story.COOP, **fields})
        result = svc.ledger.execute(command, key, "test")
        assert result.accepted, result.error
        assert svc.runner.wait_for(result.position or 0, 10.0)
        warm = observatory(db, story.COOP, today=today, position=0)
        assert warm == observatory(db, story.COOP, today=today, position=0, cached=False), name  # as if built from scratch
        after = _by_id(warm)
        assert after[changed]["value"] != before[changed]["value"], name
        if kept is None:
            assert all(after[ident] is not before[ident] for ident in after), name
        else:
            assert after[kept] is before[kept], f"{name}: {kept} was read again"  # the cache did spare it
        before = after


def test_the_answer_kept_between_requests_changes_with_the_next_event(app_env):
    """The JSON is kept per views' position (api/observatory_reads.py): the same bytes until an
    event is projected, then new figures; min_position reads one's own write through the same cache."""
    env, reader = app_env, app_env["tokens"]["reader"]
    first = _get(env, reader, as_of=story.AS_OF)
    assert first.status_code == 200 and _get(env, reader, as_of=story.AS_OF).content == first.content  # kept
    paid = _by_id(first.json())["fees"]["value"]
    r = env["client"].post(
        f"/v1/coops/{story.COOP}/commands/PayFee",
        json={"member_id": "m3", "year": 2025, "amount": "10", "effective_date": "2025-11-02"},
        headers={"Authorization": f"Bearer {env['tokens']['treasurer']}", "Idempotency-Key": "kept-then-new"},
    )
    assert r.status_code == 201, r.text
    mine = _get(env, reader, as_of=story.AS_OF, min_position=r.json()["position"])
    assert mine.status_code == 200 and mine.json()["position"] >= r.json()["position"] > first.json()["position"]
    assert _by_id(mine.json())["fees"]["value"] != paid
    assert env["svc"].runner.wait_for(r.json()["position"], 10.0)
    again = _get(env, reader, as_of=story.AS_OF)
    assert again.json()["position"] >= r.json()["position"] and _by_id(again.json())["fees"] == _by_id(mine.json())["fees"]


def test_a_kept_answer_takes_one_statement_and_no_worker_thread(app_env, monkeypatch):
    """On PostgreSQL the JSON route reads whether the observatory is public and the views' position
    in one statement awaited on the event loop; the kept bytes then need no worker thread."""
    env, reader = app_env, app_env["tokens"]["reader"]
    svc = env["svc"]
    assert _get(env, reader, as_of=story.AS_OF).status_code == 200  # built (and the key cached)
    hops: list[str] = []
    statements: list[str] = []
    run_sync, query = anyio.to_thread.run_sync, svc.loop_reads.query

    async def spied_run_sync(func, *args, **kwargs):
        hops.append(getattr(func, "__name__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    async def spied_query(db, sql, params=()):
        statements.append(sql)
        return await query(db, sql, params)

    monkeypatch.setattr(anyio.to_thread, "run_sync", spied_run_sync)
    monkeypatch.setattr(svc.loop_reads, "query", spied_query)
    r = _get(env, reader, as_of=story.AS_OF)
    assert r.status_code == 200 and r.json()["coop"] == story.COOP
    assert len(statements) == 1 and "projection_positions" in statements[0] and "observatory_visibility" in statements[0]
    if svc.ledger.db.dialect == "postgres":
        assert hops == []
    else:  # SQLite: the one statement in a worker thread, nothing else
        assert len(hops) == 1


def test_requests_that_miss_together_wait_for_one_build(app_env, monkeypatch):
    """Single flight (api/observatory_reads.py): requests arriving while an answer is being built
    take its bytes instead of building it again (16 connections used to mean 16 builds at once)."""
    from api import observatory_reads

    svc, built, started = app_env["svc"], [], threading.Event()
    real = observatory_reads.observatory

    def slow_observatory(*args: Any, **kwargs: Any) -> Any:
        built.append(kwargs["position"])
        started.set()
        time.sleep(0.3)  # the others arrive while this one builds
        return real(*args, **kwargs)

    monkeypatch.setattr(observatory_reads, "observatory", slow_observatory)
    day, position = date.fromisoformat(story.AS_OF), svc.runner.position()
    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(observatory_reads.build, svc, story.COOP, day, svc.ledger.db, position)
        assert started.wait(10)
        others = [pool.submit(observatory_reads.build, svc, story.COOP, day, svc.ledger.db, position) for _ in range(7)]
        bodies = {first.result(20), *(f.result(20) for f in others)}
    assert built == [position] and len(bodies) == 1 and b'"coop"' in next(iter(bodies))
    # Another day is another answer: built once more, and the gate of the first is gone.
    assert observatory_reads.build(svc, story.COOP, day - timedelta(days=1), svc.ledger.db, position) not in bodies
    assert built == [position, position] and observatory_reads._building == {}
