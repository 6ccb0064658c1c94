"""Tamper evidence: recompute each cooperative's chains from the stored records themselves.

`coopledger verify` must not trust the code path it checks: it reads the raw rows of the event
store (topic, version, stored bytes, and each event's link in the event chain), decodes each state
without building an event or replaying the aggregate (a replay would only crash on the first bad
entry), and checks:

- presence: the cooperative's events have versions 1, 2, 3... without a hole; the event chain links
  no version past the last stored one; the command receipts (saved in the same transactions) name
  no more events or entries than are stored;
- order: journal numbers run 1..N in version order;
- entries: each entry's stored chain hash equals SHA-256 over its canonical content and the
  previous link (`domain.journal.entry_hash`), and it balances;
- seals: every FiscalYearClosed carries the head it sealed, which must be the previous link;
- every event: its link in the event chain equals SHA-256 over the previous link and its complete
  stored content (ledger/chain.py), so an edit of any field of any event is caught, not only of
  an entry's postings; each command receipt likewise;
- postings: the postings table (ledger/postings.py) holds exactly each entry's postings, in order,
  and no row for an entry that is not stored;
- a head kept outside the store (`--head N:HASH`, from a closing or an assembly's minutes): the
  link recomputed at version N must be that hash;
- the latest snapshot (ledger/snapshots.py), a cache every cold load trusts: it must equal a replay
  of the events up to its version (ledger/snapshot_check.py).

It reports the first broken event per cooperative (journal number when it is an entry, version,
what is wrong). Events are read per cooperative in pages, so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import structlog

from domain.cooperative import coop_id
from domain.errors import IntegrityViolation, NotFound
from domain.events import EVENT_CLASSES, TOPIC_PREFIX, FinancialEvent
from domain.journal import GENESIS_HASH, check_balanced, entry_hash
from ledger import handlers as _handlers  # noqa: F401  (imports every family: registers every event class)
from ledger.chain import GENESIS_LINK, link
from ledger.heads import Head
from ledger.identity_check import IdentityCheck
from ledger.identity_keys import KeyRing
from ledger.links import StoredLinks
from ledger.postings import PostingsCheck
from ledger.snapshot_check import check_snapshot
from ledger.stored_history import MAX_EVENTS_PER_COOP, PAGE_EVENTS, Claims, StoredHistory, StoredRow

log = structlog.get_logger("coopledger.verify")

CLOSING_KIND = "FiscalYearClosed"

Progress = Callable[[str, int], None]  # (cooperative, events checked so far)


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong in a cooperative's stored history."""

    kind: str  # content_hash_mismatch | unbalanced | number_gap | out_of_order | missing_event | missing_entries
    #            | sealed_head_mismatch | undecodable | unknown_topic | foreign_event | event_hash_mismatch
    #            | unchained_event | receipt_hash_mismatch | head_mismatch | postings_mismatch | snapshot_mismatch
    #            | snapshot_undecodable
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
    head_link: str = GENESIS_LINK  # the link of the last event checked: the head is events:head_link
    sealed: list[dict[str, Any]] = field(default_factory=list)  # closings whose head matched
    head_check: dict[str, Any] | None = None  # the outcome of --head, when asked
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def head(self) -> str:
        return f"{self.events}:{self.head_link}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "coop": self.coop,
            "ok": self.ok,
            "events": self.events,
            "entries": self.entries,
            "last_number": self.last_number,
            "last_hash": self.last_hash,
            "head": self.head,
            "sealed": self.sealed,
            "head_check": self.head_check,
            "problem": self.problem.as_dict() if self.problem else None,
        }


# ---------------------------------------------------------------- the pure check


def verify_events(
    coop: str,
    records: Iterable[StoredRow],
    claims: Claims = Claims(),
    progress: Progress | None = None,
    last_linked: int = 0,
    expected_head: Head | None = None,
    postings: PostingsCheck | None = None,
) -> CoopReport:
    """Checks one cooperative's stored events, given in version order. `last_linked` is the highest
    version the event chain holds a link for; `expected_head` a head kept outside the store;
    `postings` the cooperative's rows of the postings table, compared entry by entry."""
    report = CoopReport(coop)
    originator = coop_id(coop)
    expected_version, expected_number, prev_hash = 1, 1, GENESIS_HASH
    link_at_head: str | None = None  # the link recomputed at expected_head's version, once reached
    stream = iter(records)
    for row in stream:
        report.events += 1
        if progress is not None and report.events % PAGE_EVENTS == 0:
            progress(coop, report.events)
        problem, number = _check_event(coop, row.version, row.topic, row.state, expected_version, expected_number, prev_hash)
        if problem is None:
            problem = _check_link(originator, row, report.head_link)
        if problem is None and number is not None and postings is not None:
            problem = _check_postings(postings, number, row)
        if problem is not None:
            if problem.kind == "number_gap":
                problem = _gap_or_disorder(problem, stream)
            report.problem = problem
            return _with_head_check(report, expected_head, link_at_head)
        expected_version = row.version + 1
        assert row.link is not None  # _check_link passed: the stored link is the recomputed one
        report.head_link = row.link
        if expected_head is not None and row.version == expected_head.version:
            link_at_head = report.head_link
        if number is not None:
            state = row.state
            report.entries += 1
            if row.topic == TOPIC_PREFIX + CLOSING_KIND:
                report.sealed.append(
                    {
                        "year": state["year"],
                        "closing_number": number,
                        "head_number": state["head_number"],
                        "head_hash": state["head_hash"],
                        "event_head": f"{row.version}:{report.head_link}",
                    }
                )
            expected_number, prev_hash = number + 1, state["chain_hash"]
            report.last_number, report.last_hash = number, prev_hash
    if claims.events > report.events or claims.max_number > report.last_number:
        report.problem = Problem(
            "missing_entries",
            report.last_number + 1 if claims.max_number > report.last_number else None,
            report.events + 1,
            f"the store ends at version {report.events} (entry {report.last_number}) but the command receipts name "
            f"{claims.events} events and entries up to {claims.max_number}: the last ones were removed",
        )
    elif postings is not None and postings.rest() is not None:
        report.problem = Problem("postings_mismatch", None, None, str(postings.rest()))
    elif last_linked > report.events:
        report.problem = Problem(
            "missing_event",
            None,
            report.events + 1,
            f"the store ends at version {report.events} but the event chain links events up to version {last_linked}: "
            "the last ones were removed",
        )
    return _with_head_check(report, expected_head, link_at_head)


def _check_postings(postings: PostingsCheck, number: int, row: StoredRow) -> Problem | None:
    """The entry's rows in the postings table against the postings inside its stored event."""
    differs = postings.entry(number, _date(row.state["effective_date"]).isoformat(), row.state["postings"])
    return Problem("postings_mismatch", number, row.version, differs) if differs else None


def _check_link(originator: Any, row: StoredRow, prev: str) -> Problem | None:
    """The event's stored link against the one recomputed from its stored bytes and the previous link."""
    number = row.state.get("journal_number") if isinstance(row.state, dict) else None
    kind = row.topic.removeprefix(TOPIC_PREFIX)
    if row.link is None:
        return Problem(
            "unchained_event",
            number,
            row.version,
            f"version {row.version} ({kind}) has no link in the event chain: it was stored outside the program, "
            "or its link was removed",
        )
    if row.link != link(prev, originator, row.version, row.topic, row.raw):
        return Problem(
            "event_hash_mismatch",
            number,
            row.version,
            f"version {row.version} ({kind}): its stored content no longer matches its link in the event chain "
            f"(a field of the event, or its link, was changed)",
        )
    return None


def _with_head_check(report: CoopReport, head: Head | None, found: str | None) -> CoopReport:
    """Compares the link recomputed at the asked version with the head kept outside the store."""
    if head is None:
        return report
    report.head_check = {
        "head": str(head),
        "found": None if found is None else f"{head.version}:{found}",
        "ok": found == head.link,
    }
    if found != head.link and report.problem is None:
        why = (
            f"the store holds {report.events} events, fewer than {head.version}"
            if found is None
            else f"the link at version {head.version} is {found}, not {head.link}"
        )
        report.problem = Problem(
            "head_mismatch",
            None,
            head.version,
            f"the head kept outside the store ({head}) is not in this store: {why}; the history was "
            "rewritten or cut since that head was taken",
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
        return Problem(
            "missing_event",
            expected_number if lost_entry else None,
            expected_version,
            f"{what}stored events jump from version {expected_version - 1} to {version} "
            f"({version - expected_version} event(s) removed)",
        ), None
    if isinstance(state, Exception):
        return Problem("undecodable", None, version, f"version {version}: the stored state cannot be decoded ({state})"), None
    cls = EVENT_CLASSES.get(topic.removeprefix(TOPIC_PREFIX)) if topic.startswith(TOPIC_PREFIX) else None
    if cls is None:
        return Problem("unknown_topic", None, version, f"version {version}: unknown event topic {topic!r}"), None
    if state.get("coop") != coop:
        return Problem(
            "foreign_event",
            state.get("journal_number"),
            version,
            f"version {version}: the event names cooperative {state.get('coop')!r}, not {coop!r}",
        ), None
    if not issubclass(cls, FinancialEvent):
        return None, None
    number = state.get("journal_number")
    if not isinstance(number, int) or number != expected_number:
        kind = "out_of_order" if isinstance(number, int) and number < expected_number else "number_gap"
        return Problem(
            kind, expected_number, version, f"version {version} holds entry {number} where entry {expected_number} was expected"
        ), None
    try:
        recomputed = entry_hash(
            prev_hash=prev_hash,
            coop=coop,
            number=number,
            kind=cls.__name__,
            effective_date=_date(state["effective_date"]),
            recorded_at=_datetime(state["timestamp"]),
            label=state["label"],
            postings=state["postings"],
        )
    except (KeyError, TypeError, ValueError) as exc:
        return Problem("undecodable", number, version, f"entry {number}: its content is malformed ({exc!r})"), None
    if recomputed != state.get("chain_hash"):
        return Problem(
            "content_hash_mismatch",
            number,
            version,
            f"entry {number}: its content or its link to entry {number - 1} no longer matches its stored hash "
            f"(stored {str(state.get('chain_hash'))[:12]}..., recomputed {recomputed[:12]}...)",
        ), None
    if state["postings"] or not getattr(cls, "EMPTY_ENTRY_ALLOWED", False):
        try:
            check_balanced(state["postings"], f"entry {number}")
        except IntegrityViolation as exc:
            return Problem("unbalanced", number, version, str(exc)), None
    if cls.__name__ == CLOSING_KIND and (state.get("head_number") != number - 1 or state.get("head_hash") != prev_hash):
        return Problem(
            "sealed_head_mismatch",
            number,
            version,
            f"entry {number} closes fiscal year {state.get('year')} and seals head {state.get('head_number')} "
            f"{str(state.get('head_hash'))[:12]}..., but the chain before it ends at {number - 1} {prev_hash[:12]}...",
        ), None
    return None, number


def _gap_or_disorder(problem: Problem, rest: Iterator[StoredRow]) -> Problem:
    """A number too high means the expected entry is missing, or stored later (out of order):
    look ahead (bounded) for it."""
    assert problem.number is not None
    for _i, row in zip(range(MAX_EVENTS_PER_COOP), rest, strict=False):  # the range bounds the loop
        if isinstance(row.state, dict) and row.state.get("journal_number") == problem.number:
            return Problem(
                "out_of_order",
                problem.number,
                problem.version,
                f"{problem.message}; entry {problem.number} is stored later, at version {row.version}: entries are out of order",
            )
    return Problem(
        "number_gap", problem.number, problem.version, f"{problem.message}; entry {problem.number} is not in the store"
    )


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


# ---------------------------------------------------------------- reading the store


def verify_store(
    ledger: Any, only: str | None = None, progress: Progress | None = None, expected_head: Head | None = None
) -> list[CoopReport]:
    """Verifies every cooperative in the store (or only one). One report per cooperative."""
    assert expected_head is None or only is not None, "a head belongs to one cooperative"
    history = StoredHistory(ledger)
    claims, broken_receipts = history.cooperatives_and_claims()
    if only is not None and only not in claims and history.last_link(only) is None and next(history.records(only), None) is None:
        # Nothing in the store names it: a typo, not broken books.
        raise NotFound(
            "coop", "known_cooperative", f"no cooperative {only!r} in this store (known: {', '.join(claims) or 'none'})"
        )
    slugs = [only] if only is not None else list(claims)
    keys = KeyRing(ledger.db)  # its own: keys read from the store now, not the process's cache
    reports = []
    for slug in slugs:
        last = history.last_link(slug)
        identities = IdentityCheck(keys, slug)
        report = verify_events(
            slug,
            identities.rows(history.records(slug)),
            claims.get(slug, Claims()),
            progress,
            last_linked=last[0] if last else 0,
            expected_head=expected_head,
            postings=PostingsCheck(ledger.db, slug, upto=ledger.position()),
        )
        if report.events == 0 and report.problem is None:
            report.problem = Problem("missing_event", None, 1, f"no stored event for cooperative {slug!r}")
        sealed = identities.problem() if report.problem is None else None
        if sealed is not None:
            report.problem = Problem(sealed[0], None, sealed[1], sealed[2])
        receipt = next((r for r in broken_receipts if r.coop == slug), None)
        if report.problem is None and receipt is not None:
            report.problem = Problem("receipt_hash_mismatch", None, None, receipt.message)
        wrong_snapshot = check_snapshot(ledger, slug) if report.problem is None else None
        if wrong_snapshot is not None:  # a cache, but one every cold load would trust
            report.problem = Problem(wrong_snapshot[0], None, wrong_snapshot[1], wrong_snapshot[2])
        log.info(
            "chain_verified" if report.ok else "chain_broken",
            coop=slug,
            events=report.events,
            entries=report.entries,
            head=report.head,
            problem=report.problem.as_dict() if report.problem else None,
        )
        reports.append(report)
    orphans = [r for r in broken_receipts if r.coop not in claims]  # a receipt too damaged to name a known cooperative
    if orphans and only is None:
        reports.append(CoopReport("(command receipts)", problem=Problem("receipt_hash_mismatch", None, None, orphans[0].message)))
    return reports


def adoptions(ledger: Any) -> list[dict[str, Any]]:
    """When the event chain was adopted over a store written before it, and over how many events."""
    return [{"adopted_at": at, "events": n} for at, n in StoredLinks(ledger.db).adoptions()]
