"""Tamper evidence: recompute each cooperative's hash chain from the stored records themselves.

`coopledger verify` must not trust the code path it checks: it reads the raw rows of the event
store through the recorder (topic, version, JSON state), decodes each state without building an
event or replaying the aggregate (a replay would only crash on the first bad entry), and checks:

- presence: the cooperative's events have versions 1, 2, 3... without a hole, and the command
  receipts (saved in the same transactions) name no more events or entries than are stored;
- order: journal numbers run 1..N in version order;
- content: each entry's stored chain hash equals SHA-256 over its canonical content and the
  previous link (`domain.journal.entry_hash`), and it balances;
- seals: every FiscalYearClosed carries the head it sealed, which must be the previous link.

It reports the first broken entry per cooperative (journal number, version, what is wrong).
Events are read per cooperative in pages of PAGE_EVENTS, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog

import ledger.handlers  # noqa: F401  (imports every family: registers every event class)
from domain.cooperative import coop_id
from domain.errors import IntegrityViolation
from domain.events import EVENT_CLASSES, TOPIC_PREFIX, FinancialEvent
from domain.journal import GENESIS_HASH, check_balanced, entry_hash

log = structlog.get_logger("coopledger.verify")

PAGE_EVENTS = 1000
RECEIPT_TOPIC = "coopledger:CommandReceipt.Created"
FOUNDED_TOPIC = TOPIC_PREFIX + "CooperativeFounded"
CLOSING_KIND = "FiscalYearClosed"
# Bounds the look-ahead that tells an entry stored out of order from a missing one.
MAX_EVENTS_PER_COOP = 10**9

Progress = Callable[[str, int], None]  # (cooperative, events checked so far)


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong in a cooperative's stored history."""

    kind: str  # content_hash_mismatch | unbalanced | number_gap | out_of_order | missing_event | missing_entries
    #            | sealed_head_mismatch | undecodable | unknown_topic | foreign_event
    number: int | None  # the journal number of the first broken entry (None: not an entry)
    version: int | None  # the aggregate version where it was found
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "number": self.number, "version": self.version, "message": self.message}


@dataclass
class CoopReport:
    coop: str
    events: int = 0
    entries: int = 0
    last_number: int = 0
    last_hash: str = GENESIS_HASH
    sealed: list[dict[str, Any]] = field(default_factory=list)  # closings whose head matched
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "coop": self.coop, "ok": self.ok, "events": self.events, "entries": self.entries,
            "last_number": self.last_number, "last_hash": self.last_hash, "sealed": self.sealed,
            "problem": self.problem.as_dict() if self.problem else None,
        }


@dataclass(frozen=True)
class Claims:
    """What the command receipts say was stored for a cooperative: events and highest entry."""

    events: int = 0
    max_number: int = 0


# ---------------------------------------------------------------- the pure check


def verify_events(
    coop: str, records: Iterable[tuple[int, str, Any]], claims: Claims = Claims(), progress: Progress | None = None
) -> CoopReport:
    """Checks one cooperative's stored events, given in version order as (version, topic, state),
    state being the decoded JSON dict, or an Exception when it could not be decoded."""
    report = CoopReport(coop)
    expected_version, expected_number, prev_hash = 1, 1, GENESIS_HASH
    stream = iter(records)
    for version, topic, state in stream:
        report.events += 1
        if progress is not None and report.events % PAGE_EVENTS == 0:
            progress(coop, report.events)
        problem, number = _check_event(coop, version, topic, state, expected_version, expected_number, prev_hash)
        if problem is not None:
            if problem.kind == "number_gap":
                problem = _gap_or_disorder(problem, stream)
            report.problem = problem
            return report
        expected_version = version + 1
        if number is not None:
            report.entries += 1
            if topic == TOPIC_PREFIX + CLOSING_KIND:
                report.sealed.append({"year": state["year"], "closing_number": number, "head_number": state["head_number"],
                                      "head_hash": state["head_hash"]})
            expected_number, prev_hash = number + 1, state["chain_hash"]
            report.last_number, report.last_hash = number, prev_hash
    if claims.events > report.events or claims.max_number > report.last_number:
        report.problem = Problem(
            "missing_entries", report.last_number + 1 if claims.max_number > report.last_number else None, report.events + 1,
            f"the store ends at version {report.events} (entry {report.last_number}) but the command receipts name "
            f"{claims.events} events and entries up to {claims.max_number}: the last ones were removed",
        )
    return report


def _check_event(
    coop: str, version: int, topic: str, state: Any, expected_version: int, expected_number: int, prev_hash: str
) -> tuple[Problem | None, int | None]:
    """(the problem with this event or None, its journal number when it is an entry)."""
    if version != expected_version:
        found = state.get("journal_number") if isinstance(state, dict) else None
        lost_entry = isinstance(found, int) and found > expected_number  # an entry was among the removed events
        what = f"entry {expected_number} is missing: " if lost_entry else ""
        return Problem("missing_event", expected_number if lost_entry else None, expected_version,
                       f"{what}stored events jump from version {expected_version - 1} to {version} "
                       f"({version - expected_version} event(s) removed)"), None
    if isinstance(state, Exception):
        return Problem("undecodable", None, version, f"version {version}: the stored state cannot be decoded ({state})"), None
    cls = EVENT_CLASSES.get(topic.removeprefix(TOPIC_PREFIX)) if topic.startswith(TOPIC_PREFIX) else None
    if cls is None:
        return Problem("unknown_topic", None, version, f"version {version}: unknown event topic {topic!r}"), None
    if state.get("coop") != coop:
        return Problem("foreign_event", state.get("journal_number"), version,
                       f"version {version}: the event names cooperative {state.get('coop')!r}, not {coop!r}"), None
    if not issubclass(cls, FinancialEvent):
        return None, None
    number = state.get("journal_number")
    if not isinstance(number, int) or number != expected_number:
        kind = "out_of_order" if isinstance(number, int) and number < expected_number else "number_gap"
        return Problem(kind, expected_number, version,
                       f"version {version} holds entry {number} where entry {expected_number} was expected"), None
    try:
        recomputed = entry_hash(
            prev_hash=prev_hash, coop=coop, number=number, kind=cls.__name__, effective_date=_date(state["effective_date"]),
            recorded_at=_datetime(state["timestamp"]), label=state["label"], postings=state["postings"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        return Problem("undecodable", number, version, f"entry {number}: its content is malformed ({exc!r})"), None
    if recomputed != state.get("chain_hash"):
        return Problem("content_hash_mismatch", number, version,
                       f"entry {number}: its content or its link to entry {number - 1} no longer matches its stored hash "
                       f"(stored {str(state.get('chain_hash'))[:12]}..., recomputed {recomputed[:12]}...)"), None
    if state["postings"] or not getattr(cls, "EMPTY_ENTRY_ALLOWED", False):
        try:
            check_balanced(state["postings"], f"entry {number}")
        except IntegrityViolation as exc:
            return Problem("unbalanced", number, version, str(exc)), None
    if cls.__name__ == CLOSING_KIND and (state.get("head_number") != number - 1 or state.get("head_hash") != prev_hash):
        return Problem("sealed_head_mismatch", number, version,
                       f"entry {number} closes fiscal year {state.get('year')} and seals head {state.get('head_number')} "
                       f"{str(state.get('head_hash'))[:12]}..., but the chain before it ends at {number - 1} {prev_hash[:12]}..."), None
    return None, number


def _gap_or_disorder(problem: Problem, rest: Iterator[tuple[int, str, Any]]) -> Problem:
    """A number too high means the expected entry is missing, or stored later (out of order):
    look ahead (bounded) for it."""
    assert problem.number is not None
    for _i, (version, _topic, state) in zip(range(MAX_EVENTS_PER_COOP), rest):
        if isinstance(state, dict) and state.get("journal_number") == problem.number:
            return Problem("out_of_order", problem.number, problem.version,
                           f"{problem.message}; entry {problem.number} is stored later, at version {version}: entries are out of order")
    return Problem("number_gap", problem.number, problem.version,
                   f"{problem.message}; entry {problem.number} is not in the store")


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


# ---------------------------------------------------------------- reading the store


class StoredHistory:
    """Raw access to the event store of a LedgerApp: rows, not events."""

    def __init__(self, app: Any) -> None:
        self.recorder = app.recorder
        self.mapper = app.mapper

    def decode(self, state: bytes) -> dict[str, Any] | Exception:
        """The stored JSON as a dict (dates and times decoded), or the error: no event is built."""
        try:
            if self.mapper.cipher:
                state = self.mapper.cipher.decrypt(state)
            if self.mapper.compressor:
                state = self.mapper.compressor.decompress(state)
            decoded = self.mapper.transcoder.decode(state)
        except Exception as exc:  # a tampered state may break the JSON in any way: report, don't crash
            return exc
        return decoded if isinstance(decoded, dict) else TypeError(f"state is a {type(decoded).__name__}, not an object")

    def records(self, slug: str, page: int = PAGE_EVENTS) -> Iterator[tuple[int, str, Any]]:
        """The cooperative's stored events in version order, read in pages of `page`."""
        originator = coop_id(slug)
        after = 0
        for _ in range(MAX_EVENTS_PER_COOP // page + 1):
            rows = self.recorder.select_events(originator, gt=after, limit=page)
            for row in rows:
                yield row.originator_version, row.topic, self.decode(row.state)
            if len(rows) < page:
                return
            after = rows[-1].originator_version

    def cooperatives_and_claims(self, page: int = PAGE_EVENTS) -> dict[str, Claims]:
        """Every cooperative named by a founding event or a command receipt, with what its receipts
        claim was stored. Reads the notification log in pages, filtered to those two topics."""
        events: dict[str, int] = {}
        numbers: dict[str, int] = {}
        start = 1
        upto = self.recorder.max_notification_id() or 0
        for _ in range(upto // page + 2):
            rows = self.recorder.select_notifications(start, page, stop=upto, topics=[RECEIPT_TOPIC, FOUNDED_TOPIC])
            for row in rows:
                state = self.decode(row.state)
                if not isinstance(state, dict) or not isinstance(state.get("coop"), str):
                    continue
                slug = state["coop"]
                events.setdefault(slug, 0)
                numbers.setdefault(slug, 0)
                result = state.get("result") if row.topic == RECEIPT_TOPIC else None
                if isinstance(result, dict):
                    events[slug] += len(result.get("events") or [])
                    numbers[slug] = max([numbers[slug], *(n for n in result.get("journal_numbers") or [] if isinstance(n, int))])
            if len(rows) < page:
                break
            start = rows[-1].id + 1
        return {slug: Claims(events[slug], numbers[slug]) for slug in sorted(events)}


def verify_store(app: Any, only: str | None = None, progress: Progress | None = None) -> list[CoopReport]:
    """Verifies every cooperative in the store (or only one). One report per cooperative."""
    history = StoredHistory(app)
    claims = history.cooperatives_and_claims()
    slugs = [only] if only is not None else list(claims)
    reports = []
    for slug in slugs:
        report = verify_events(slug, history.records(slug), claims.get(slug, Claims()), progress)
        if report.events == 0 and report.problem is None:
            report.problem = Problem("missing_event", None, 1, f"no stored event for cooperative {slug!r}")
        log.info("chain_verified" if report.ok else "chain_broken", coop=slug, events=report.events, entries=report.entries,
                 problem=report.problem.as_dict() if report.problem else None)
        reports.append(report)
    return reports
