"""FeedHead reads the feed's position when the projection runner moved or a stream waits, and
otherwise leaves the database alone (a server nobody follows spends nothing on the feed)."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager

from api.routes_feed import POLL_S, FeedHead
from ledger.db import Database
from ledger.migrate import migrate
from ledger.store import StoreConfig


class CountingDb:
    """The store's Database, counting the reads (FeedHead reads the position with one)."""

    def __init__(self, db: Database) -> None:
        self.db, self.reads = db, 0

    @contextmanager
    def read(self):
        self.reads += 1
        with self.db.read() as tx:
            yield tx


class StillRunner:
    """What FeedHead uses of the projection runner: the condition it notifies after each batch, and
    whether it projects in this process."""

    def __init__(self, running: bool = True) -> None:
        self._advanced = threading.Condition()
        self.running = running

    def moved(self) -> None:
        with self._advanced:
            self._advanced.notify_all()


def test_the_head_reads_only_when_the_runner_moved_or_a_stream_waits(store_factory):
    db = Database(StoreConfig.from_url(store_factory.new(migrated=True)))
    migrate(db)
    counting, runner = CountingDb(db), StillRunner()
    head = FeedHead(counting, runner)  # type: ignore[arg-type]
    head.start()
    try:
        assert counting.reads == 1  # the position at start
        time.sleep(POLL_S * 5)
        assert counting.reads == 1  # nobody follows, nothing projected: no query

        runner.moved()
        deadline = time.monotonic() + 2
        while counting.reads < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert counting.reads == 2  # woken by the runner: one read

        # A stream waiting for the next fact: the head polls, since another process may project.
        waited = asyncio.run(head.wait_beyond(head.position, timeout_s=POLL_S * 5))
        assert waited is False  # nothing was projected
        assert counting.reads >= 4
    finally:
        head.stop()
        db.close()


def test_the_head_of_a_process_whose_views_another_process_projects_reads_every_pass(store_factory):
    # No runner thread here (`coopledger serve` beside `coopledger runner`): nothing would wake the
    # head, so it reads each POLL_S, and webhook deliveries still start within that.
    db = Database(StoreConfig.from_url(store_factory.new(migrated=True)))
    migrate(db)
    counting = CountingDb(db)
    head = FeedHead(counting, StillRunner(running=False))  # type: ignore[arg-type]
    head.start()
    try:
        time.sleep(POLL_S * 5)
        assert counting.reads >= 4, counting.reads
    finally:
        head.stop()
        db.close()
