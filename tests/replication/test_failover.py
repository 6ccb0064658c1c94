"""Failover with synchronous replication: the primary's postmaster killed (SIGKILL) under load,
the standby promoted (`pg_ctl promote`), and the same Ledger, whose URL lists both hosts with
target_session_attrs=read-write, carries on without a restart. Every command acknowledged before
the kill is on the promoted server exactly once; verify passes; the views equal a rebuild."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from ledger.store import StoreConfig
from ledger.verify import verify_store
from projections.balances import account_balance
from projections.runner import MAX_BACKOFF_S
from tests.builders import dump_projections
from tests.replication import failover
from tests.replication.cluster import Cluster
from tests.replication.conftest import start_cluster

# One private primary and standby at a time, whichever xdist worker runs them (--dist loadgroup):
# two pairs at once on the 2-core machine would slow the failover and the timed replay waits.
pytestmark = pytest.mark.xdist_group("pg-cluster")


def test_nothing_acknowledged_is_lost_when_the_synchronous_primary_is_killed(cluster: Cluster, new_schema: Callable[[], str]):
    ledger, runner, outcome = failover.run(cluster, new_schema(), writers=4, load_s=1.5, after_s=1.5)
    try:
        assert len(outcome.acked_before_kill) >= 20, "too little load before the kill to show anything"
        assert outcome.lost == set()
        assert outcome.duplicated == set()
        assert set(outcome.copies) == outcome.acked  # each acknowledged command once, and nothing else
        assert outcome.first_ack_after_promotion_s is not None  # the same process wrote again, on the promoted server
        assert len(outcome.acked) > len(outcome.acked_before_kill)

        (report,) = verify_store(ledger, failover.COOP)
        assert report.ok, report.as_dict()
        # The runner thread (its LISTEN connection, the views' pool) found the promoted server too.
        assert runner.wait_for(ledger.position(), timeout_s=10)
        runner.stop()
        assert account_balance(ledger.db, failover.COOP, "512") == len(outcome.acked)  # one cent each
        projected = dump_projections(runner)
        runner.rebuild()
        assert dump_projections(runner) == projected
    finally:
        runner.stop()
        ledger.close()


def test_the_http_service_follows_the_promotion_without_a_restart():
    """The API process itself: its URL lists both hosts; after the kill and the promotion, commands
    (retried with their key, as a client would) and reads with min_position succeed again."""
    pair = start_cluster(synchronous=True)
    try:
        assert pair.primary is not None
        schema = "http_failover"
        pair.primary.sql(f'CREATE SCHEMA "{schema}"')
        app = create_app(StoreConfig.from_url(failover.failover_url(pair, schema)))
        with TestClient(app) as client:
            svc = app.state.services
            tokens = {role: create_key(svc.ledger.db, role=role, coops=["http"])[1] for role in ("admin", "clerk")}
            assert _post(client, tokens["admin"], "FoundCooperative", FOUND, "found").status_code == 201
            pair.kill_primary()
            pair.promote()
            admitted = _until_201(client, tokens["clerk"], "AdmitMember", ADMIT, "admit")
            read = client.get(
                "/v1/coops/http/members",
                params={"year": 2025, "min_position": admitted["position"]},
                headers={"Authorization": f"Bearer {tokens['admin']}"},
            )
            assert read.status_code == 200 and [m["member_id"] for m in read.json()["members"]] == ["m1"]
            # The runner's listening connection was to the killed primary: it may notice only now
            # ("degraded", last_error set), then opens one to the promoted server (its retries back
            # off up to MAX_BACKOFF_S). Health is ok again without a restart.
            health = _until_healthy(client, timeout_s=3 * MAX_BACKOFF_S)
            assert health["status"] == "ok", health
    finally:
        pair.close()


FOUND = {
    "name": "Coop H",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "colleges": [{"code": "users", "name": "Usagers", "weight": "100"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
}
ADMIT = {"member_id": "m1", "name": "Alice", "kind": "person", "college": "users", "effective_date": "2025-02-01"}


def _post(client: TestClient, token: str, command: str, body: dict[str, Any], key: str) -> Any:
    return client.post(
        f"/v1/coops/http/commands/{command}", json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    )


def _until_healthy(client: TestClient, timeout_s: float) -> dict[str, Any]:
    """/health's body once its status is ok, or the last one seen after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        health = client.get("/health").json()
        if health["status"] == "ok" or time.monotonic() >= deadline:
            return health
        time.sleep(0.1)


def _until_201(client: TestClient, token: str, command: str, body: dict[str, Any], key: str, timeout_s: float = 30) -> Any:
    """Retries with the same key while the service answers 503 (the database away), as a client would."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = _post(client, token, command, body, key)
        if r.status_code == 201:
            return r.json()
        assert r.status_code == 503, r.text
        time.sleep(0.2)
    raise AssertionError(f"{command} not accepted {timeout_s} s after the promotion")
