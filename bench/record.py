"""Records the data set through the real command path, in batches, and keeps the balances
view current incrementally (the way a running server does) so a rebuild can be checked
against it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import structlog

from bench.dataset import Dataset
from ledger.service import MAX_BATCH_COMMANDS, Ledger
from projections.balances import BalancesProjection
from projections.runner import ProjectionRunner

log = structlog.get_logger("coopledger.bench")

Advance = Callable[[int], None]  # financial events just recorded


@dataclass
class Recording:
    commands: int
    financial_events: int
    batches: int
    record_s: float  # wall time inside Ledger.execute_batch
    project_s: float  # wall time of the incremental balances projection (catch_up)
    counts: dict[str, int]

    @property
    def commands_per_s(self) -> float:
        return self.commands / self.record_s

    @property
    def events_per_s(self) -> float:
        return self.financial_events / self.record_s


class CommandRefused(AssertionError):
    """The data set is built to be accepted in full; a refusal is a bug here or in the core."""


def record(
    ledger: Ledger, dataset: Dataset, *, batch_commands: int, project_batch: int, advance: Advance | None = None
) -> Recording:
    assert 1 <= batch_commands <= MAX_BATCH_COMMANDS
    runner = ProjectionRunner(ledger, projections=(BalancesProjection,), batch_size=project_batch)
    stream = iter(dataset)
    commands = financial = batches = 0
    record_s = project_s = 0.0
    while batch := list(islice(stream, batch_commands)):
        items = [(command, key, actor) for command, key, actor, _number in batch]
        started = time.perf_counter()
        results = ledger.execute_batch(items)
        record_s += time.perf_counter() - started
        done = _check(batch, results)
        started = time.perf_counter()
        runner.catch_up()
        project_s += time.perf_counter() - started
        commands += len(batch)
        financial += done
        batches += 1
        if advance is not None:
            advance(done)
    log.info(
        "data_set_recorded",
        commands=commands,
        financial_events=financial,
        batches=batches,
        record_s=round(record_s, 2),
        incremental_projection_s=round(project_s, 2),
    )
    return Recording(commands, financial, batches, record_s, project_s, dict(dataset.counts))


def _check(batch: list[tuple[Any, str, str, int | None]], results: list[Any]) -> int:
    """Every command accepted, each financial one numbered as the data set predicted."""
    assert len(results) == len(batch)
    financial = 0
    for (command, key, _actor, number), result in zip(batch, results, strict=True):
        if not result.accepted:
            raise CommandRefused(f"{type(command).__name__} {key} refused: {result.error.as_dict()} ({command})")
        assert not result.duplicate, f"{key} reported as a duplicate"
        expected = (number,) if number is not None else ()
        if result.journal_numbers != expected:
            raise CommandRefused(f"{key}: journal numbers {result.journal_numbers}, expected {expected} ({command})")
        financial += len(expected)
    return financial
