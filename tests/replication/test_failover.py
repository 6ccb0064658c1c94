"""Failover with synchronous replication: the primary's postmaster killed (SIGKILL) under load,
the standby promoted (`pg_ctl promote`), and the same Ledger, whose URL lists both hosts with
target_session_attrs=read-write, carries on without a restart. Every command acknowledged before
the kill is on the promoted server exactly once; verify passes; the views equal a rebuild."""

from __future__ import annotations

from collections.abc import Callable

from ledger.verify import verify_store
from projections.balances import account_balance
from tests.builders import dump_projections
from tests.replication import failover
from tests.replication.cluster import Cluster


def test_nothing_acknowledged_is_lost_when_the_synchronous_primary_is_killed(cluster: Cluster, new_schema: Callable[[], str]):
    ledger, runner, outcome = failover.run(cluster, new_schema(), writers=4, load_s=1.5, after_s=1.5)
    try:
        assert len(outcome.acked_before_kill) >= 20, "too little load before the kill to show anything"
        assert outcome.lost == set()
        assert outcome.duplicated == set()
        assert set(outcome.copies) == outcome.acked  # each acknowledged command once, and nothing else
        assert outcome.first_ack_after_promotion_s is not None  # the same process wrote again, on the promoted server
        assert len(outcome.acked) > len(outcome.acked_before_kill)

        (report,) = verify_store(ledger.app, failover.COOP)
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
