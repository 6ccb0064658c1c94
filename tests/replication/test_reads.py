"""Read routes answered by a real hot standby (PostgreSQL streaming replication), the primary as
the fallback: read-your-writes waits for the standby's own positions; a standby paused, lagging
or down is skipped, counted, and the answer is still right."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from api.metrics import REGISTRY
from ledger.replicas import PROBE_INTERVAL_S
from ledger.store import StoreConfig
from tests.replication.cluster import Cluster

# One private primary and standby at a time, whichever xdist worker runs them (--dist loadgroup):
# two pairs at once on the 2-core machine would slow the failover and the timed replay waits.
pytestmark = pytest.mark.xdist_group("pg-cluster")

COOP = "coop-r"
ROLE = {"FoundCooperative": "admin", "AdmitMember": "clerk", "CallFee": "treasurer", "PayFee": "treasurer"}
FOUND = {
    "name": "Coop R",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "colleges": [{"code": "users", "name": "Usagers", "weight": "100"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
}


@pytest.fixture(scope="module")
def api(cluster: Cluster, new_schema: Callable[[], str]) -> Iterator[dict[str, Any]]:
    assert cluster.primary is not None and cluster.standby is not None
    schema = new_schema()
    app = create_app(StoreConfig.from_url(cluster.primary.url(schema)), read_urls=cluster.standby.url(schema))
    with TestClient(app) as client:
        svc = app.state.services
        tokens = {role: create_key(svc.ledger.db, role=role, coops=[COOP])[1] for role in ("admin", "clerk", "treasurer")}
        env = {
            "client": client,
            "svc": svc,
            "token": tokens["admin"],
            "tokens": tokens,
            "paid": 0,
            "standby": svc.reads.standbys[0].name,
            "cluster": cluster,
        }
        command(env, "FoundCooperative", FOUND)
        command(
            env,
            "AdmitMember",
            {"member_id": "m1", "name": "Alice", "kind": "person", "college": "users", "effective_date": "2025-02-01"},
        )
        command(env, "CallFee", {"member_id": "m1", "year": 2025, "effective_date": "2025-02-01"})
        yield env


def command(env: dict[str, Any], name: str, body: dict[str, Any]) -> int:
    env["paid"] += 1
    r = env["client"].post(
        f"/v1/coops/{COOP}/commands/{name}",
        json=body,
        headers={"Authorization": f"Bearer {env['tokens'][ROLE[name]]}", "Idempotency-Key": f"k-{env['paid']}"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["position"])


def pay_one_euro(env: dict[str, Any]) -> int:
    env["euros"] = env.get("euros", 0) + 1
    return command(env, "PayFee", {"member_id": "m1", "year": 2025, "amount": "1.00", "effective_date": "2025-03-01"})


def read_bank(env: dict[str, Any], **params: Any) -> Any:
    return env["client"].get(
        f"/v1/coops/{COOP}/accounts/512/balance", params=params, headers={"Authorization": f"Bearer {env['token']}"}
    )


def reads_by(database: str) -> float:
    return REGISTRY.get_sample_value("coopledger_reads_total", {"database": database}) or 0.0


def skipped(standby: str, reason: str) -> float:
    return REGISTRY.get_sample_value("coopledger_standby_skipped_total", {"standby": standby, "reason": reason}) or 0.0


def next_probe() -> None:
    time.sleep(PROBE_INTERVAL_S + 0.05)  # the router's view of a standby is at most this old


def test_reads_with_min_position_are_answered_by_the_standby(api):
    before_standby, before_primary = reads_by(api["standby"]), reads_by("primary")
    for _ in range(3):
        position = pay_one_euro(api)
        r = read_bank(api, min_position=position)
        assert r.status_code == 200, r.text
        assert r.json()["balance"] == f"{api['euros']}.00"  # its own write, read back from the standby
    assert reads_by(api["standby"]) - before_standby == 3
    assert reads_by("primary") == before_primary


def test_observatory_json_and_feed_pages_come_from_the_standby(api):
    position = pay_one_euro(api)
    before = reads_by(api["standby"])
    headers = {"Authorization": f"Bearer {api['token']}"}
    observatory = api["client"].get(f"/v1/coops/{COOP}/observatory", params={"min_position": position}, headers=headers)
    assert observatory.status_code == 200, observatory.text
    assert observatory.json()["position"] >= position
    api["cluster"].wait_replayed()
    feed = api["client"].get(f"/v1/coops/{COOP}/feed", headers=headers)
    assert feed.status_code == 200, feed.text
    assert feed.json()["facts"] and feed.json()["next_after"] >= position
    assert reads_by(api["standby"]) - before == 2


def test_a_paused_standby_is_waited_for_then_skipped_and_the_answer_is_still_right(api):
    cluster, reads = api["cluster"], api["svc"].reads
    cluster.standby.sql("SELECT pg_wal_replay_pause()")
    try:
        position = pay_one_euro(api)
        behind = skipped(api["standby"], "behind")
        started = time.monotonic()
        r = read_bank(api, min_position=position)
        assert r.status_code == 200 and r.json()["balance"] == f"{api['euros']}.00"
        assert skipped(api["standby"], "behind") == behind + 1
        assert 0.9 < time.monotonic() - started < 2.5  # the standby's share of the wait, then the primary
        # Further behind than allowed: skipped at once, even without min_position.
        reads.max_lag_ms = 1
        next_probe()
        lagging, before = skipped(api["standby"], "lagging"), reads_by("primary")
        assert read_bank(api).json()["balance"] == f"{api['euros']}.00"
        assert skipped(api["standby"], "lagging") == lagging + 1 and reads_by("primary") == before + 1
        (row,) = api["client"].get("/health").json()["standbys"]
        assert row["up"] is False and row["reason"] == "lagging" and row["replay_lag_bytes"] > 0 and row["lag_positions"] >= 1
    finally:
        reads.max_lag_ms = 5000
        cluster.standby.sql("SELECT pg_wal_replay_resume()")
    standby_answers_again(api, position)


def standby_answers_again(api, position: int) -> None:
    """Once it has replayed everything, the standby answers the read again (the primary no longer)."""
    api["cluster"].wait_replayed()
    next_probe()
    before = reads_by(api["standby"])
    assert read_bank(api, min_position=position).json()["balance"] == f"{api['euros']}.00"
    assert reads_by(api["standby"]) == before + 1


def test_a_standby_down_is_skipped_for_the_primary_then_used_again(api):
    cluster = api["cluster"]
    # With its only synchronous standby down, every commit on the primary would wait for it:
    # asynchronous while it is down (docs/scaling.md: two standbys, `ANY 1 (...)`, avoid that).
    cluster.set_synchronous(False)
    cluster.stop_standby()
    try:
        next_probe()
        down, before = skipped(api["standby"], "down"), reads_by("primary")
        position = pay_one_euro(api)
        r = read_bank(api, min_position=position)
        assert r.status_code == 200 and r.json()["balance"] == f"{api['euros']}.00"
        assert skipped(api["standby"], "down") == down + 1 and reads_by("primary") == before + 1
        health = api["client"].get("/health").json()
        assert health["status"] == "ok"  # reads still answered: the service is not degraded
        assert health["standbys"][0]["up"] is False and health["standbys"][0]["reason"].startswith("down")
        assert f'coopledger_standby_up{{standby="{api["standby"]}"}} 0.0' in api["client"].get("/metrics").text
    finally:
        cluster.start_standby()
        cluster.set_synchronous(True)
    cluster.wait_streaming(sync=True)
    standby_answers_again(api, position)


def test_health_and_metrics_show_each_standbys_replay_lag(api):
    api["cluster"].wait_replayed()
    next_probe()
    (row,) = api["client"].get("/health").json()["standbys"]
    assert row["standby"] == api["standby"] and row["up"] is True and row["reason"] == "ok"
    assert row["replay_lag_ms"] == 0.0 and row["replay_lag_bytes"] == 0
    text = api["client"].get("/metrics").text
    assert f'coopledger_standby_replay_lag_ms{{standby="{api["standby"]}"}} 0.0' in text
    assert f'coopledger_standby_lag_positions{{standby="{api["standby"]}"}}' in text
