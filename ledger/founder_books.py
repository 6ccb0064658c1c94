"""What a federation needs from the store that the domain cannot read: each founder's books.

The aggregate keeps no balances and the projections may lag, so a founder's balances per (account,
party, unit) are replayed from its stored events here, followed by those a batch decided before the
federation and has not saved yet. The federation itself runs through the ordinary write path
(ledger/decision.py, ledger/service.py): locked, saved in one transaction, retried and made
idempotent like any other command.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import chain
from typing import TYPE_CHECKING, Any

from domain.cooperative import Cooperative, coop_id
from domain.events import CoopEvent, FinancialEvent
from domain.federation import FounderBooks

if TYPE_CHECKING:
    from ledger.service import Ledger

PAGE_EVENTS = 1_000
MAX_PAGES = 10_000  # 10 million events per founder: far above any cooperative's history


def read_founder_books(ledger: Ledger, founder: Cooperative, decided: Sequence[Any] = ()) -> FounderBooks:
    """A founder's balances per (account, party, unit) and its latest effective date, up to the loaded
    aggregate's version (a later concurrent write fails the save). `decided`: the founder's events
    decided earlier in the same batch, not stored yet; they are the last ones of that version."""
    stored_version = founder.version - len(decided)
    assert all(e.originator_version > stored_version for e in decided), "decided events follow the stored ones"
    return _books(chain(_stored_events(ledger, founder.slug, stored_version), decided))  # streamed: bounded memory


def _stored_events(ledger: Ledger, slug: str, up_to: int) -> Iterator[Any]:
    version = 0
    for _page in range(MAX_PAGES):
        if version >= up_to:
            return
        page = list(ledger.app.events.get(coop_id(slug), gt=version, lte=up_to, limit=PAGE_EVENTS))
        if not page:
            return
        yield from page
        version = page[-1].originator_version
    raise RuntimeError(f"{slug}: more than {MAX_PAGES * PAGE_EVENTS} events; raise MAX_PAGES")


def _books(events: Iterable[Any]) -> FounderBooks:
    balances: dict[tuple[str, str | None, str], int] = defaultdict(int)
    latest: date | None = None
    for event in events:
        if isinstance(event, CoopEvent) and (latest is None or event.effective_date > latest):
            latest = event.effective_date
        if isinstance(event, FinancialEvent):
            for account, party, unit, amount in event.postings:
                balances[(account, party, unit)] += amount
    return FounderBooks(balances={k: v for k, v in balances.items() if v}, latest_effective_date=latest)
