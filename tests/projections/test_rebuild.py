"""Every projection rebuilt from zero equals the same projection kept up to date event by event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.fees import PayFee
from projections.runner import ProjectionRunner
from tests.builders import dump_projections, ok, rich_history


def test_rebuild_equals_incremental(ledger, runner):
    def catch_up(result):
        runner.catch_up()  # one command's events per batch
        assert runner.position() == ledger.position() == result.position

    rich_history(ledger, after_each=catch_up)
    incremental = dump_projections(runner)
    assert len(incremental["journal_entries"]) == 9 + 6
    assert len(incremental["members"]) == 5

    runner.rebuild()
    assert dump_projections(runner) == incremental
    assert runner.position() == ledger.position()


def test_rebuild_with_tiny_batches_equals_one_big_batch(ledger, runner):
    rich_history(ledger)
    runner.catch_up()
    one_batch = dump_projections(runner)
    for batch_size in (1, 3, 7):
        small = ProjectionRunner(ledger, batch_size=batch_size, rebuild_batch_size=batch_size)
        small.rebuild()
        assert dump_projections(small) == one_batch, f"batch size {batch_size}"


def test_rebuild_clears_rows_the_log_no_longer_explains(ledger, runner):
    rich_history(ledger)
    runner.catch_up()
    expected = dump_projections(runner)
    with ledger.db.transaction() as tx:
        tx.execute("UPDATE fee_calls SET paid_cents = 0 WHERE coop = 'demo'")
        tx.execute("DELETE FROM journal_lines WHERE coop = 'scic'")
        tx.execute(
            "INSERT INTO members (coop, member_id, name, kind, college, headcount, admitted_on, status, left_on, shares)"
            " VALUES ('demo', 'intruder', 'X', 'person', 'users', 1, '2020-01-01', 'active', NULL, 0)"
        )
    assert dump_projections(runner) != expected
    runner.rebuild()
    assert dump_projections(runner) == expected


def test_catch_up_is_idempotent_and_resumes(ledger, runner):
    rich_history(ledger)
    assert runner.catch_up() == ledger.position()  # notifications read, receipts included
    before = dump_projections(runner)
    assert runner.catch_up() == 0
    assert dump_projections(runner) == before

    position = runner.position()
    paid = ok(ledger, PayFee("demo", "alice", 2021, Decimal("25"), date(2021, 1, 5)))
    assert runner.catch_up() == paid.position - position == 2  # the FeePaid event and its receipt
    after = dump_projections(runner)
    new_entries = set(after["journal_entries"]) - set(before["journal_entries"])
    assert [(row[0], row[1], row[2]) for row in new_entries] == [("demo", 10, "FeePaid")]


def _record_demo(ledger, after_each_batch, batch_commands: int) -> None:
    from ledger.commands import parse_envelope
    from ledger.demo import demo_commands

    envelopes = [parse_envelope(data) for data in demo_commands()]
    for start in range(0, len(envelopes), batch_commands):
        chunk = envelopes[start : start + batch_commands]
        results = ledger.execute_batch([(e.command, e.idempotency_key, e.actor or "demo", e.reason) for e in chunk])
        refused = [r.error for r in results if not r.accepted]
        assert not refused, refused[:3]
        after_each_batch()


def test_every_view_rebuilt_equals_the_one_kept_incrementally(ledger, runner, monkeypatch):
    """The demo touches every family: each projection has rows, and a rebuild of all of them, in
    pages of any size, gives exactly the rows kept batch by batch while recording."""
    import projections.registry_fees as registry_fees

    _record_demo(ledger, runner.catch_up, batch_commands=13)
    incremental = dump_projections(runner)
    empty = [p.name for p in runner.projections if not any(incremental[t] for t in p.tables)]
    assert not empty, f"the demo leaves these views empty, so this test would not check them: {empty}"
    assert runner.position() == ledger.position()

    # The rebuild's pages update the registry's fee calls the way big pages do on PostgreSQL
    # (from a temporary table), where the batches of 13 commands above updated them row by row.
    monkeypatch.setattr(registry_fees, "UPDATE_FROM_COPY", 2)
    for page in (10_000, 7):
        rebuilt = ProjectionRunner(ledger, rebuild_batch_size=page)
        with ledger.db.transaction() as tx:
            tx.execute("UPDATE members SET shares = shares + 1")  # must not survive the rebuild
        rebuilt.rebuild()
        assert dump_projections(rebuilt) == incremental, f"pages of {page}"
        assert rebuilt.position() == ledger.position()
        assert set(rebuilt.spent_s) >= {p.name for p in rebuilt.projections}  # each view's time is reported
