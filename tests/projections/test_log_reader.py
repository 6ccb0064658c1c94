"""The runner's log reader gives the events eventsourcing's recorder and mapper give, page by page."""

from __future__ import annotations

import gc
from typing import Any

from projections.base import Projection
from projections.log_reader import WINDOW, LogReader
from projections.runner import ProjectionRunner
from tests.builders import rich_history


def _by_mapper(ledger, topics: list[str]) -> list[tuple[int, type, dict[str, Any]]]:
    app = ledger.app
    notifications = app.recorder.select_notifications(start=1, limit=10**6, topics=topics)
    return [(n.id, type(e), vars(e)) for n in notifications for e in [app.mapper.to_domain_event(n)]]


def test_pages_hold_the_events_the_mapper_decodes(ledger, runner):
    rich_history(ledger)
    expected = _by_mapper(ledger, runner.topics)
    # Sealed identity fields opened (the mapper's `opened`), as the mapper does.
    assert any(t.__name__ == "MemberAdmitted" and isinstance(state["name"], str) for _p, t, state in expected)
    upto = ledger.position()
    for limit in (1, 2, 7, 1000):
        reader = LogReader(ledger, runner.topics)
        read, start = [], 1
        while start <= upto:
            page, end = reader.read(start, upto, limit)
            assert len(page) <= limit and start <= end <= min(upto, start + WINDOW * limit - 1)
            assert all(start <= position <= end for position, _e in page)
            read += page
            start = end + 1
        assert [(p, type(e), vars(e)) for p, e in read] == expected, f"limit {limit}"


def test_a_page_reads_no_further_than_its_window(ledger, runner):
    rich_history(ledger)
    upto = ledger.position()
    page, end = LogReader(ledger, runner.topics).read(1, upto, 3)
    assert end <= 1 + WINDOW * 3 - 1 < upto
    assert page and all(p <= end for p, _e in page)


class _SeesCollector(Projection):
    name = "sees_collector"
    tables = ()
    seen: list[bool] = []

    def process(self, tx, batch) -> None:
        self.seen.append(gc.isenabled())


def test_rebuild_pauses_the_cyclic_collector_and_resumes_it(ledger):
    rich_history(ledger)
    runner = ProjectionRunner(ledger, projections=[_SeesCollector])
    _SeesCollector.seen.clear()
    assert gc.isenabled()
    runner.rebuild()
    assert _SeesCollector.seen and not any(_SeesCollector.seen)
    assert gc.isenabled()
    assert runner.position() == ledger.position()
