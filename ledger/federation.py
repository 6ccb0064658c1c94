"""Running a federation (domain/federation.py): several aggregates, one transaction, exactly once.

A federation changes the new cooperative and every founder together, which the per-command path
of the service (one cooperative per command) does not do. This module locks them all (sorted, like
a batch), reads each founder's balances from its stored events (the aggregate keeps no balances;
projections may lag), lets the domain decide, then saves the new cooperative's events, each
founder's seal and the command receipt with ONE `app.save`: either everything is stored or nothing.

The receipt sits under (new cooperative, key) and keeps the report, so a retry with the same key
answers the same report and writes nothing; the same key with another body is refused (409).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import IntegrityError

from domain.cooperative import Cooperative, coop_id
from domain.errors import Conflict, DomainError, InvalidCommand
from domain.events import CoopEvent, FinancialEvent, Meta
from domain.federation import (
    FederateCooperatives,
    FounderBooks,
    federate,
    founder_slugs,
)
from domain.rules import identifier
from ledger.app import CommandReceipt, receipt_id
from ledger.commands import fingerprint

if TYPE_CHECKING:
    from ledger.service import Ledger

log = structlog.get_logger("coopledger.federation")

PAGE_EVENTS = 1_000
MAX_PAGES = 10_000  # 10 million events per founder: far above any cooperative's history
MAX_SAVE_ATTEMPTS = 8


@cache
def _result_class() -> type:
    from ledger.service import (
        CommandResult,  # the service imports this module lazily: no cycle at import
    )

    @dataclass(frozen=True)
    class FederationResult(CommandResult):
        """A command result with the federation's report (what moved), also on a duplicate."""

        report: dict[str, Any] = field(default_factory=dict)

        def as_dict(self) -> dict[str, Any]:
            body = super().as_dict()
            if self.accepted:
                body["report"] = self.report
            return body

    return FederationResult


def execute_items(ledger: Ledger, items: Sequence[tuple[Any, ...]]) -> list[Any]:
    """`Ledger.execute_batch` for a batch that holds federations: each federation runs on its own
    (it locks and saves several cooperatives); the commands between them keep their batches."""
    results: list[Any] = []
    run: list[tuple[Any, ...]] = []
    for item in items:
        if isinstance(item[0], FederateCooperatives):
            if run:
                results.extend(ledger.execute_batch(run))
                run = []
            results.append(execute(ledger, *item))
        else:
            run.append(item)
    if run:
        results.extend(ledger.execute_batch(run))
    return results


def execute(ledger: Ledger, command: FederateCooperatives, key: str, actor: str | None = "cli", reason: str | None = None) -> Any:
    """Runs one federation. Raises nothing for a refusal: see result.error, and nothing is written."""
    result_class = _result_class()
    name = type(command).__name__
    slug = getattr(command, "coop", None)
    try:
        identifier(slug, "coop")
        if not isinstance(key, str) or not key:
            raise InvalidCommand("idempotency_key", "required", "every command needs an idempotency key")
        founders = founder_slugs(command)
    except DomainError as error:
        return result_class(False, str(slug), name, str(key), error=error)
    meta = Meta(actor=actor or "unknown", idempotency_key=key, reason=reason)
    print_ = fingerprint(command)
    slugs = sorted({slug, *founders})
    with ledger._locked(slugs):
        for attempt in range(1, MAX_SAVE_ATTEMPTS + 1):
            try:
                return _attempt(ledger, result_class, command, key, meta, print_, founders)
            except IntegrityError:
                ledger._evict(slugs)  # another writer saved first: read again and decide again
                log.info("federation_conflict_retry", attempt=attempt, coops=slugs)
                if attempt == MAX_SAVE_ATTEMPTS:
                    raise
                time.sleep(0.005 * attempt)
            except BaseException:
                ledger._evict(slugs)
                raise
    raise AssertionError("unreachable")


def _attempt(ledger: Ledger, result_class: type, command: FederateCooperatives, key: str, meta: Meta,
             print_: str, founders: list[str]) -> Any:
    slug, name = command.coop, type(command).__name__
    existing = ledger._load(slug)
    # After the load, like the service: a receipt not found now means its events are not loaded either.
    stored = ledger._stored_receipts({(slug, key)}).get((slug, key))
    if stored is not None:
        if stored.fingerprint != print_:
            error = Conflict("idempotency_key", "same_key_same_content",
                             f"key {key!r} was already used for a different command; use a new key for a new command")
            return result_class(False, slug, name, key, error=error)
        return result_class(True, slug, name, key, position=stored.position,
                            journal_numbers=tuple(stored.result["journal_numbers"]), events=tuple(stored.result["events"]),
                            duplicate=True, report=stored.result.get("report", {}))
    loaded = {f: ledger._load(f) for f in founders}
    books = {f: read_founder_books(ledger, coop) for f, coop in loaded.items() if coop is not None}
    try:
        new, sealed, report = federate(existing, loaded, books, command, meta)
    except DomainError as error:
        ledger._evict(founders)  # the deciders refuse before sealing; drop any half-decided state anyway
        log.info("federation_refused", coop=slug, rule=error.rule, field=error.field)
        return result_class(False, slug, name, key, error=error)
    emitted = list(new.collect_events())
    for founder in sealed:
        emitted.extend(founder.collect_events())
    kinds = [e.kind for e in emitted]
    numbers = [e.journal_number for e in emitted if isinstance(e, FinancialEvent)]
    receipt = CommandReceipt._create(
        CommandReceipt.Created, id=receipt_id(slug, key), coop=slug, key=key, command=name, fingerprint=print_,
        # Events per stream: the founders' seals live in their own streams, and `verify` counts each
        # cooperative's claimed events against that cooperative's stream.
        result={"events": kinds, "journal_numbers": numbers, "report": report,
                "events_by_coop": dict(Counter(e.coop for e in emitted))},
    )
    recordings = ledger.app.save(*emitted, receipt.collect_events()[0])  # one transaction for every aggregate
    position = {r.domain_event.originator_id: r.notification.id for r in recordings}[receipt.id]
    log.info("federated", coop=slug, founders=founders, members=sum(c["members"] for c in report["colleges"]), position=position)
    return result_class(True, slug, name, key, position=position, journal_numbers=tuple(numbers), events=tuple(kinds),
                        report=report)


def read_founder_books(ledger: Ledger, founder: Cooperative) -> FounderBooks:
    """A founder's balances per (account, party, unit) and its latest effective date, replayed from
    its stored events up to the loaded aggregate's version (a later concurrent write fails the save)."""
    balances: dict[tuple[str, str | None, str], int] = defaultdict(int)
    latest: date | None = None
    version = 0
    for _page in range(MAX_PAGES):
        if version >= founder.version:
            break
        page = list(ledger.app.events.get(coop_id(founder.slug), gt=version, lte=founder.version, limit=PAGE_EVENTS))
        if not page:
            break
        for event in page:
            if isinstance(event, CoopEvent) and (latest is None or event.effective_date > latest):
                latest = event.effective_date
            if isinstance(event, FinancialEvent):
                for account, party, unit, amount in event.postings:
                    balances[(account, party, unit)] += amount
        version = page[-1].originator_version
    else:
        raise RuntimeError(f"{founder.slug}: more than {MAX_PAGES * PAGE_EVENTS} events; raise MAX_PAGES")
    return FounderBooks(balances={k: v for k, v in balances.items() if v}, latest_effective_date=latest)
