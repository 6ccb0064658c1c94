"""The feed over HTTP, served by a real uvicorn on a loopback port (both stores): a follower is cut
off mid-stream twice while commands keep coming, reconnects with Last-Event-ID, and what it got
equals the event log exactly; the JSON page; role filtering; heartbeats; a gone client's stream ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.keys import create_key, revoke_key
from api.metrics import REGISTRY
from api.routes_feed import KEY_RECHECK_S
from domain import family
from ledger.store import StoreConfig
from projections.journal import journal
from tests.conftest import LIVE_HTTP_TIMEOUT_S, migrates_the_store
from tests.feed.helpers import COOP, NAMES, OTHER, LiveServer, follow, log_facts, payment, record, setup_commands, sse_events

WRITES = 60  # payments recorded while the follower reads, in small batches


@pytest.fixture
@migrates_the_store
def live(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("COOPLEDGER_FEED_HEARTBEAT_MS", "300")
    app = create_app(StoreConfig.from_url(store_url))
    with LiveServer(app) as server:
        ledger = app.state.services.ledger
        position = record(ledger, setup_commands(COOP) + setup_commands(OTHER), "setup")
        assert app.state.services.runner.wait_for(position, 10)
        tokens = {role: create_key(ledger.db, role=role, coops=[COOP])[1] for role in ("admin", "reader", "clerk")}
        yield {"url": server.url, "ledger": ledger, "tokens": tokens, "app": app}


def _streams() -> float:
    return REGISTRY.get_sample_value("coopledger_feed_streams") or 0.0


def _wait(predicate: Any, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_follow_cut_off_twice_and_resume_gets_the_log_exactly(live):
    ledger, token = live["ledger"], live["tokens"]["admin"]
    written = threading.Event()

    def writer() -> None:
        for start in range(0, WRITES, 5):  # the other cooperative too: its facts must not leak in
            record(ledger, [payment(i) for i in range(start, start + 5)] + [payment(start, OTHER)], f"w{start}")
            time.sleep(0.01)
        written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    got, _ = follow(live["url"], token, COOP, last_id=None, stop_after=7, until_position=None)
    assert _wait(lambda: _streams() == 0), "the server kept streaming to a client that went away"
    more, _ = follow(live["url"], token, COOP, last_id=got[-1]["position"], stop_after=25, until_position=None)
    got += more
    thread.join(30)
    assert written.is_set()
    expected = log_facts(ledger, COOP)
    rest, _ = follow(live["url"], token, COOP, last_id=got[-1]["position"], stop_after=None, until_position=expected[-1][0])
    got += rest

    assert [(f["position"], f["event"], (f["entry"] or {}).get("number")) for f in got] == expected
    assert {f["coop"] for f in got} == {COOP}
    numbers = [f["entry"]["number"] for f in got if f["entry"]]
    assert numbers == list(range(1, len(NAMES) + WRITES + 1))
    assert numbers == [e["number"] for e in journal(ledger.db, COOP)]
    assert _wait(lambda: _streams() == 0)


def test_json_page_cursor_and_after_param(live):
    client = httpx.Client(
        base_url=live["url"], headers={"Authorization": f"Bearer {live['tokens']['admin']}"}, timeout=LIVE_HTTP_TIMEOUT_S
    )
    expected = [p for p, _, _ in log_facts(live["ledger"], COOP)]
    assert len(expected) == 1 + 2 * len(NAMES)
    seen, after = [], 0
    for _ in range(10):
        r = client.get(f"/v1/coops/{COOP}/feed", params={"after": after, "limit": 4})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        body = r.json()
        seen += [f["position"] for f in body["facts"]]
        assert body["more"] == (len(body["facts"]) == 4)
        after = body["next_after"]
        if not body["more"]:
            break
    assert seen == expected and after >= expected[-1]
    # SSE with ?after= starts after it too; kinds and account filters run in the store.
    facts, _ = follow(
        live["url"],
        live["tokens"]["admin"],
        COOP,
        last_id=None,
        stop_after=None,
        until_position=expected[-1],
        params={"after": expected[3]},
    )
    assert [f["position"] for f in facts] == expected[4:]
    # The stream sends what the page answers, amounts in the wire's form (docs/webhooks.md).
    assert client.get(f"/v1/coops/{COOP}/feed", params={"after": expected[3]}).json()["facts"] == facts
    called = [f for f in facts if f["kind"] == "fee.called"]
    assert called and all(f["data"]["amount_eur"] == "100.00" and "amount_cents" not in f["data"] for f in called)
    assert all(sorted(p["amount"] for p in f["entry"]["postings"]) == ["-100.00", "100.00"] for f in called)
    (founded,) = client.get(f"/v1/coops/{COOP}/feed", params={"limit": 1}).json()["facts"]
    assert [b["amount_eur"] for b in founded["data"]["fee_schedule"]] == ["100.00", "250.50", "1500.00"]
    assert founded["data"]["share_value_eur"] is None and "share_value_cents" not in founded["data"]
    r = client.get(f"/v1/coops/{COOP}/feed", params={"kinds": "member.admitted,fee.called"}).json()
    assert [f["kind"] for f in r["facts"]] == ["member.admitted", "fee.called"] * len(NAMES)
    r = client.get(f"/v1/coops/{COOP}/feed", params={"account": "7561"}).json()
    assert len(r["facts"]) == len(NAMES) and all(any(p["account"] == "7561" for p in f["entry"]["postings"]) for f in r["facts"])
    assert client.get(f"/v1/coops/{COOP}/feed", params={"account": "756"}).json()["facts"] == []  # whole numbers only
    bad = client.get(f"/v1/coops/{COOP}/feed", params={"kinds": "fee.stolen"})
    assert bad.status_code == 422 and bad.json()["field"] == "kinds" and bad.json()["rule"] == "known_kind"
    # Not a position: letters, a digit that is not ASCII ('²', which int() refuses: it was a 500),
    # more digits than a position has.
    for last_id in (b"x1", "\u00b2".encode("latin-1"), b"1" * 19):
        bad = client.get(f"/v1/coops/{COOP}/feed", headers={"Last-Event-ID": last_id})
        assert bad.status_code == 422 and bad.json()["field"] == "Last-Event-ID", (last_id, bad.text)
    assert client.get(f"/v1/coops/{OTHER}/feed").status_code == 403  # the key is bound to COOP only


def test_reader_without_names_clerk_without_books_idle_heartbeats(live):
    reader = live["tokens"]["reader"]
    expected = log_facts(live["ledger"], COOP)
    facts, _ = follow(live["url"], reader, COOP, last_id=None, stop_after=None, until_position=expected[-1][0])
    text = str(facts)
    assert not [name for name in NAMES if name.split()[0] in text], "a reader saw members' names"
    assert {f["kind"] for f in facts} == {"cooperative.founded", "fee.called"}
    assert [f["position"] for f in facts] == [p for p, name, _ in expected if name != "MemberAdmitted"]
    assert all("label" not in f["entry"] and "actor" not in f for f in facts if f["kind"] == "fee.called")
    assert all(f["data"]["member_id"].startswith("m") for f in facts if f["kind"] == "fee.called")
    client = httpx.Client(base_url=live["url"], timeout=LIVE_HTTP_TIMEOUT_S)
    r = client.get(f"/v1/coops/{COOP}/feed", params={"kinds": "member.admitted"}, headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403 and r.json()["rule"] == "role_feed_kind"
    clerk = client.get(f"/v1/coops/{COOP}/feed", headers={"Authorization": f"Bearer {live['tokens']['clerk']}"}).json()
    assert {f["kind"] for f in clerk["facts"]} == {"cooperative.founded", "member.admitted"}
    assert NAMES[0] in str(clerk["facts"])
    admin = client.get(f"/v1/coops/{COOP}/feed", headers={"Authorization": f"Bearer {live['tokens']['admin']}"}).json()
    assert NAMES[0] in str(admin["facts"]) and "label" in admin["facts"][-1]["entry"]
    assert set(family.facts()) >= {f["event"] for f in admin["facts"]}

    # An idle stream sends heartbeats, and wakes when a fact is recorded.
    last = expected[-1][0]
    _, comments = follow(live["url"], live["tokens"]["admin"], COOP, last_id=last, stop_after=None, until_position=None)
    assert comments >= 1  # nothing new: a keep-alive comment came (HEARTBEAT 300 ms)
    timer = threading.Timer(0.5, lambda: record(live["ledger"], [payment(0)], "late"))
    timer.start()
    started = time.monotonic()
    facts, _ = follow(live["url"], live["tokens"]["admin"], COOP, last_id=last, stop_after=1, until_position=None)
    timer.join()
    assert facts[0]["kind"] == "fee.paid" and facts[0]["position"] > last
    assert time.monotonic() - started < 3.0


def test_a_revoked_key_s_open_stream_ends_within_seconds(live):
    """Revocation reaches open streams too, not only new requests (api/routes_feed.py KEY_RECHECK_S)."""
    key_id, token = create_key(live["ledger"].db, role="admin", coops=[COOP])
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    events: list[dict[str, Any]] = []
    with (
        httpx.Client(timeout=httpx.Timeout(20)) as client,
        client.stream("GET", f"{live['url']}/v1/coops/{COOP}/feed", headers=headers) as response,
    ):
        assert response.status_code == 200
        started = None
        for event in sse_events(response):
            events.append(event)
            if started is None and "data" in event:  # the stream is live: revoke the key now
                revoke_key(live["ledger"].db, key_id)
                started = time.monotonic()
        ended_after_s = time.monotonic() - started
    assert events[-1]["event"] == "key_revoked" and events[-1]["data"]["rule"] == "api_key_valid"
    assert ended_after_s < 2 * KEY_RECHECK_S + 1  # the cache's lifetime, then one wait: not the 15 s heartbeat
    refused = httpx.get(
        f"{live['url']}/v1/coops/{COOP}/feed", headers={"Authorization": f"Bearer {token}"}, timeout=LIVE_HTTP_TIMEOUT_S
    )
    assert refused.status_code == 401
