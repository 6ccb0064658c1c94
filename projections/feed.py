"""The change feed: every domain event becomes one public *fact*, stored per cooperative.

One event, one fact, identified by the event's log position: the position is the feed's cursor
(SSE id, `?after=`, a webhook endpoint's cursor). Each family declares the stable, documented kinds
of its facts (domain/family.py, docs/webhooks.md); FEED_ACCESS decides what each role may follow. Both are
enforced here, in `view()`, so the stream, the JSON page and the webhooks cannot disagree.

Why a projection table (`feed_facts`, keyed by (coop, position)) rather than reading the event
log directly: the log has no cooperative column, so following one cooperative would decode every
event of every cooperative since the cursor; with the table, a page is one index range scan on
(coop, position), kind and account filters run in SQL, and the JSON is rendered once, not per
follower. Rows commit with the projection's position in one transaction and batches commit in
log order, so a reader always sees a gap-free prefix of the log: nothing appears behind a cursor
it has passed. The cost is the projection runner's lag (milliseconds: it LISTENs on PostgreSQL).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from domain.events import EVENT_CLASSES, CoopEvent, FinancialEvent
from domain.family import FEED_GROUPS, fact_of, kind_groups
from domain.personal import erased_value, personal_of
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000
# Facts read per query while forgetting a person, and a bound on the pages (a person named in a
# billion facts is a bug).
FORGET_PAGE = 1000
MAX_FORGET_PAGES = 10**6

# ---------------------------------------------------------------- the kinds of facts

# Each event's fact kind ("<thing>.<past tense>", stable: a renamed event keeps its kind) and group
# are declared by its family (domain/family.py Fact); docs/webhooks.md lists them and a test checks
# that it does. An event no family declares still becomes a fact (kind "event.<Name>", group
# "restricted": admins and auditors only) rather than vanishing from the feed.
GROUPS = FEED_GROUPS


# Fields that may name or describe a person: names, addresses, free-text reasons, applicants and
# projects, participants; plus the entry's label (labels carry members' names) and the recording
# actor. Any field named `*_name` or `*_address` counts too, so a new event's donor_name is covered.
PERSONAL_FIELDS = frozenset({"name", "reason", "applicant", "project", "participant_ref"})


def is_personal(field: str) -> bool:
    return field in PERSONAL_FIELDS or field.endswith(("_name", "_address"))


@dataclass(frozen=True)
class Access:
    groups: frozenset[str]
    personal: bool  # names, labels, reasons, actor


_ALL = frozenset(GROUPS)
# THE table of who may follow what. A reader (another tool mirroring balances) follows the entries
# and the chart, never members' personal data; a clerk has no access to the books (api/roles.py).
FEED_ACCESS: dict[str, Access] = {
    "admin": Access(_ALL, personal=True),
    "auditor": Access(_ALL, personal=True),
    "treasurer": Access(_ALL - {"restricted"}, personal=True),
    "board": Access(_ALL - {"restricted"}, personal=True),
    "clerk": Access(frozenset({"cooperative", "membership", "activities"}), personal=True),
    "reader": Access(frozenset({"cooperative", "entries"}), personal=False),
}


# ---------------------------------------------------------------- event -> fact

# The envelope: said once in every fact, never repeated in its `data` (`reason` is data: personal).
_BASE_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "originator_id_type",
        "timestamp",
        "coop",
        "effective_date",
        "actor",
        "idempotency_key",
        "journal_number",
        "label",
        "postings",
        "chain_hash",
    }
)
_DATA_FIELDS: dict[type, tuple[str, ...]] = {}


def data_fields(cls: type) -> tuple[str, ...]:
    """The event's own fields (not the envelope's), in declaration order; computed once per class."""
    if cls not in _DATA_FIELDS:
        hints = typing.get_type_hints(cls)
        _DATA_FIELDS[cls] = tuple(
            n for n, h in hints.items() if n not in _BASE_FIELDS and h is not ClassVar and typing.get_origin(h) is not ClassVar
        )
    return _DATA_FIELDS[cls]


def plain(value: Any) -> Any:
    """A value as JSON holds it: dates and decimals as text, containers walked."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


_AS_IS = frozenset({str, int, bool, type(None)})  # what plain returns unchanged


def _plain_value(value: Any) -> Any:
    """plain, without its checks for the values most fields hold (a rebuild calls it per field)."""
    return value if type(value) in _AS_IS else plain(value)


def fact_from_event(position: int, event: CoopEvent) -> tuple[str, str, dict[str, Any]]:
    """(kind, group, fact) for one event: the full fact, before any role's view."""
    name = type(event).__name__
    declared = fact_of(name)
    kind, group = (declared.kind, declared.group) if declared is not None else (f"event.{name}", "restricted")
    fact: dict[str, Any] = {
        "position": position,
        "coop": event.coop,
        "kind": kind,
        "event": name,
        "effective_date": event.effective_date.isoformat(),
        "recorded_at": event.timestamp.isoformat(),
        "actor": event.actor,
        "idempotency_key": event.idempotency_key,
        "data": {f: _plain_value(getattr(event, f, None)) for f in data_fields(type(event))},
        "entry": None,
    }
    if isinstance(event, FinancialEvent):
        fact["entry"] = {
            "number": event.journal_number,
            "label": event.label,
            "reverses": getattr(event, "reverses", None),
            "chain_hash": event.chain_hash,
            "postings": [{"account": a, "party": p or None, "unit": u, "amount": m} for a, p, u, m in event.postings],
        }
    return kind, group, fact


def view(fact: dict[str, Any], role: str) -> dict[str, Any] | None:
    """What `role` may see of a fact: None if nothing, else the fact without the personal fields
    the role may not read. The one place where access to facts is enforced."""
    access = FEED_ACCESS[role]
    if kind_groups().get(fact["kind"], "restricted") not in access.groups:
        return None
    if access.personal:
        return fact
    seen = {k: v for k, v in fact.items() if k != "actor"}
    seen["data"] = _impersonal(fact["data"])
    if fact["entry"] is not None:
        seen["entry"] = {k: v for k, v in fact["entry"].items() if k != "label"}
    return seen


def _impersonal(value: Any, depth: int = 0) -> Any:
    """`value` without personal fields at any depth: a payout's backers are a list of dicts with
    names and addresses inside the event's data. Bounded: event data is a few levels deep."""
    assert depth < 16, "event data nested deeper than any event defines"
    if isinstance(value, dict):
        return {k: _impersonal(v, depth + 1) for k, v in value.items() if not is_personal(k)}
    if isinstance(value, list):
        return [_impersonal(v, depth + 1) for v in value]
    return value


class FeedProjection(Projection):
    name = "feed"
    tables = ("feed_facts",)

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        rows = []
        for position, event in batch:
            if not isinstance(event, CoopEvent):
                continue
            kind, group, fact = fact_from_event(position, event)
            accounts = sorted({p["account"] for p in fact["entry"]["postings"]}) if fact["entry"] else []
            # Spaces around every account so `LIKE '% 512 %'` matches whole account numbers only.
            rows.append((event.coop, position, kind, group, f" {' '.join(accounts)} ", orjson.dumps(fact).decode()))
        tx.executemany(
            "INSERT INTO feed_facts (coop, position, kind, fact_group, accounts, fact_json) VALUES (?, ?, ?, ?, ?, ?)", rows
        )

    identity_tables = ("feed_facts",)

    def forget(self, tx: Tx, coop: str, person_id: str) -> None:
        """The person's identity in the facts of events that declare it (domain/personal.py)
        becomes `erased_value`. The LIKE only narrows the rows read; each fact is checked field by field."""
        after = -1
        for _ in range(MAX_FORGET_PAGES):
            rows = tx.execute(
                "SELECT position, fact_json FROM feed_facts WHERE coop = ? AND position > ? AND fact_json LIKE ?"
                " ORDER BY position LIMIT ?",
                (coop, after, f"%{person_id}%", FORGET_PAGE),
            )
            for position, text in rows:
                fact = orjson.loads(text)
                if _erase(fact, person_id):
                    tx.execute(
                        "UPDATE feed_facts SET fact_json = ? WHERE coop = ? AND position = ?",
                        (orjson.dumps(fact).decode(), coop, position),
                    )
            if len(rows) < FORGET_PAGE:
                return
            after = rows[-1][0]
        raise AssertionError("more facts than MAX_FORGET_PAGES pages name one person")


def _erase(fact: dict[str, Any], person_id: str) -> bool:
    """Replaces the person's identity fields in the fact's data; True when something changed."""
    changed = False
    for declared in personal_of(EVENT_CLASSES.get(fact.get("event", ""), object)):
        for holder, person, field in declared.places(fact["data"]):
            erased = erased_value(field, person)
            if person == person_id and holder[field] != erased:
                holder[field] = erased
                changed = True
    return changed


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class FeedFilter:
    """Which facts a follower wants: kinds (None = every kind its role may follow) and accounts
    (None = any; else facts whose entry touches one of them)."""

    role: str
    kinds: tuple[str, ...] | None = None
    accounts: tuple[str, ...] | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if self.kinds is not None:
            clauses.append(f"kind IN ({', '.join('?' for _ in self.kinds)})")
            params += self.kinds
        groups = sorted(FEED_ACCESS[self.role].groups)
        clauses.append(f"fact_group IN ({', '.join('?' for _ in groups)})")
        params += groups
        if self.accounts is not None:
            clauses.append("(" + " OR ".join("accounts LIKE ?" for _ in self.accounts) + ")")
            params += [f"% {a} %" for a in self.accounts]
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class FeedPage:
    facts: list[dict[str, Any]]  # as the role sees them, in position order
    next_after: int  # give it back as `after`: every matching fact up to here has been returned
    full: bool  # the page hit its limit: more may follow at once


def feed_position(db: Database) -> int:
    """How far the feed is projected (log position)."""
    with db.read() as tx:
        rows = tx.execute("SELECT position FROM projection_positions WHERE projection = ?", ("feed",))
    return int(rows[0][0]) if rows else 0


def read_page(db: Database, coop: str, flt: FeedFilter, *, after: int = 0, limit: int = 100) -> FeedPage:
    """Facts of `coop` after position `after`, as `flt.role` may see them, at most `limit`."""
    limit = max(1, min(limit, MAX_PAGE))
    where, params = flt.where()
    with db.read() as tx:  # one snapshot: the projected position and the rows agree
        head = tx.execute("SELECT position FROM projection_positions WHERE projection = ?", ("feed",))
        rows = tx.execute(
            f"SELECT position, fact_json FROM feed_facts WHERE coop = ? AND position > ? AND {where}"  # noqa: S608
            " ORDER BY position LIMIT ?",
            [coop, after, *params, limit],
        )
    facts = [f for f in (view(orjson.loads(text), flt.role) for _pos, text in rows) if f is not None]
    full = len(rows) == limit
    # A short page scanned everything projected so far: the cursor may jump to the projected
    # position, so a filtered follower does not rescan facts it does not want.
    next_after = int(rows[-1][0]) if full else max(after, int(head[0][0]) if head else 0, *(int(r[0]) for r in rows))
    return FeedPage(facts, next_after, full)
