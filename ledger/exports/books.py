"""A cooperative's identity, chart and journal entries, read from the event store page by page.

Exports read the stored events rather than the projections: what they write comes from the
source of truth, and comparing an export with the views (as the tests do with hledger) checks
both. Memory stays bounded: events are decoded PAGE_EVENTS at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from domain.accounts import Account, Chart, LegalForm, default_chart
from domain.closing import fiscal_year_bounds
from domain.cooperative import AccountAdded, CooperativeFounded, coop_id
from domain.errors import NotFound
from domain.events import FinancialEvent
from ledger.service import Ledger

PAGE_EVENTS = 1000
MAX_PAGES = 100_000  # 100 million events: far beyond one cooperative; bounds the loop


@dataclass
class Books:
    """What an export needs to know about the cooperative besides its entries. The chart grows
    as AccountAdded events are read, so it is complete once the entries have all been read."""

    slug: str
    name: str
    legal_form: LegalForm
    siren: str | None
    founded_on: date
    fiscal_year_start_month: int
    chart: Chart = field(repr=False)

    def fiscal_year(self, year: int) -> tuple[date, date]:
        """First and last day of the fiscal year named `year` (named by the calendar year it starts
        in, as Cooperative.fiscal_year_of says): the calendar year unless the statutes say otherwise."""
        return fiscal_year_bounds(year, self.fiscal_year_start_month)

    def label(self, account: str) -> str:
        found = self.chart.accounts.get(account)
        return found.label_fr if found else ""


def read_books(ledger: Ledger, slug: str) -> tuple[Books, Iterator[FinancialEvent]]:
    """The cooperative's identity (from its founding event) and an iterator over its financial
    events in recorded order (journal numbers 1..N). Raises NotFound for an unknown cooperative."""
    pages = _events(ledger, slug)
    first = next(pages, None)
    if not isinstance(first, CooperativeFounded):
        raise NotFound("coop", "known_cooperative", f"no cooperative {slug!r} in this store")
    form = LegalForm(first.legal_form)
    books = Books(
        slug=slug,
        name=first.name,
        legal_form=form,
        siren=first.siren,
        founded_on=first.effective_date,
        fiscal_year_start_month=first.fiscal_year_start_month,
        chart=default_chart(form),
    )

    def entries() -> Iterator[FinancialEvent]:
        for event in pages:
            if isinstance(event, AccountAdded):
                books.chart = books.chart.with_account(Account(event.number, event.label_fr, event.label_en))
            elif isinstance(event, FinancialEvent):
                yield event

    return books, entries()


def _events(ledger: Ledger, slug: str) -> Iterator[object]:
    originator = coop_id(slug)
    version = 0
    for _page in range(MAX_PAGES):
        page = list(ledger.app.events.get(originator, gt=version, limit=PAGE_EVENTS))
        if not page:
            return
        yield from page
        version = page[-1].originator_version
    raise RuntimeError(f"{slug}: more than {MAX_PAGES * PAGE_EVENTS} events; raise MAX_PAGES")
