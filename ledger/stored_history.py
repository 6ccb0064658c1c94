"""Raw access to the stored history, for `coopledger verify`: rows and links, never events.

Nothing here replays an aggregate or trusts a view: each cooperative's events are read in version
order in pages (bounded memory), each with its raw bytes, its decoded JSON (or the decoding error)
and the link the store holds for it in the event chain (ledger/chain.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.cooperative import coop_id
from domain.events import TOPIC_PREFIX
from ledger.chain import GENESIS_LINK, link
from ledger.links import StoredLinks

PAGE_EVENTS = 1000
RECEIPT_TOPIC = "coopledger:CommandReceipt.Created"
FOUNDED_TOPIC = TOPIC_PREFIX + "CooperativeFounded"
MAX_EVENTS_PER_COOP = 10**9
# Events a command stores in OTHER cooperatives' streams than the one its receipt is filed under:
# a federation's receipt (filed under the federation) names each founder's seal. Receipts written
# since list their events per cooperative (`events_by_coop`); older ones are read with this list.
FOREIGN_KINDS = frozenset({"BooksSealedByFederation"})


@dataclass(frozen=True)
class StoredRow:
    """One stored event of a cooperative: its version, topic, decoded JSON state (or the error that
    kept it from decoding), the exact stored bytes, and its link in the event chain (None: none)."""

    version: int
    topic: str
    state: Any
    raw: bytes
    link: str | None


@dataclass(frozen=True)
class Claims:
    """What the command receipts say was stored for a cooperative: events and highest entry."""

    events: int = 0
    max_number: int = 0


@dataclass(frozen=True)
class ReceiptProblem:
    """A command receipt whose stored content no longer matches its link."""

    coop: str
    key: str
    message: str


class StoredHistory:
    """Raw access to a Ledger's event store: its recorder's rows and the stored links."""

    def __init__(self, ledger: Any) -> None:
        self.recorder = ledger.app.recorder
        self.mapper = ledger.app.mapper
        self.links = StoredLinks(ledger.db)

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

    def records(self, slug: str, page: int = PAGE_EVENTS) -> Iterator[StoredRow]:
        """The cooperative's stored events in version order, read in pages of `page`."""
        originator = coop_id(slug)
        after = 0
        for _ in range(MAX_EVENTS_PER_COOP // page + 1):
            rows = self.recorder.select_events(originator, gt=after, limit=page)
            if not rows:
                return
            links = self.links.between(originator, after, rows[-1].originator_version)
            for row in rows:
                state = bytes(row.state)
                yield StoredRow(row.originator_version, row.topic, self.decode(state), state, links.get(row.originator_version))
            if len(rows) < page:
                return
            after = rows[-1].originator_version

    def last_link(self, slug: str) -> tuple[int, str] | None:
        """(version, link) of the highest version the event chain links for this cooperative."""
        return self.links.last(coop_id(slug))

    def adoptions(self) -> list[tuple[str, int]]:
        """When the event chain was adopted over events stored before it existed, and how many."""
        return self.links.adoptions()

    def cooperatives_and_claims(self, page: int = PAGE_EVENTS) -> tuple[dict[str, Claims], list[ReceiptProblem]]:
        """Every cooperative named by a founding event or a command receipt, with what its receipts
        claim was stored, and the receipts whose content no longer matches their link. Reads the
        notification log in pages, filtered to those two topics."""
        events: dict[str, int] = {}
        numbers: dict[str, int] = {}
        broken: list[ReceiptProblem] = []
        start = 1
        upto = self.recorder.max_notification_id() or 0
        for _ in range(upto // page + 2):
            rows = self.recorder.select_notifications(start, page, stop=upto, topics=[RECEIPT_TOPIC, FOUNDED_TOPIC])
            receipt_links = self.links.first_of([_uuid(r.originator_id) for r in rows if r.topic == RECEIPT_TOPIC])
            for row in rows:
                state = self.decode(row.state)
                slug = state.get("coop") if isinstance(state, dict) else None
                if row.topic == RECEIPT_TOPIC:
                    stored = receipt_links.get(_uuid(row.originator_id))
                    if stored != link(GENESIS_LINK, _uuid(row.originator_id), row.originator_version, row.topic, row.state):
                        key = state.get("key") if isinstance(state, dict) else None
                        broken.append(
                            ReceiptProblem(
                                str(slug),
                                str(key),
                                f"the command receipt {row.originator_id} (key {key!r}) "
                                + ("has no link" if stored is None else "no longer matches its link"),
                            )
                        )
                        continue  # what a tampered receipt claims is not evidence of anything
                if not isinstance(slug, str):
                    continue
                events.setdefault(slug, 0)
                numbers.setdefault(slug, 0)
                result = state.get("result") if row.topic == RECEIPT_TOPIC else None
                if isinstance(result, dict):
                    _add_claims(slug, result, events, numbers)
            if len(rows) < page:
                break
            start = rows[-1].id + 1
        return {slug: Claims(events[slug], numbers[slug]) for slug in sorted(events)}, broken


def _add_claims(slug: str, result: dict[str, Any], events: dict[str, int], numbers: dict[str, int]) -> None:
    by_coop = result.get("events_by_coop")
    if isinstance(by_coop, dict):
        for other, count in by_coop.items():
            if isinstance(count, int):
                events[other] = events.get(other, 0) + count
                numbers.setdefault(other, 0)
    else:
        events[slug] += sum(1 for kind in result.get("events") or [] if kind not in FOREIGN_KINDS)
    numbers[slug] = max([numbers[slug], *(n for n in result.get("journal_numbers") or [] if isinstance(n, int))])


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
