"""Pots: money dedicated to a purpose, as dated movements, so their figures are exact on any date.

The cooperation fund (fed by success contributions, domain/contributions.py) is a pot, and so is
each subsidy (domain/subsidies.py); the calls for projects draw on one of them (domain/grants.py),
and an earmarked gift keeps a pot of its own (domain/donations.py). The pots of the fund and the
subsidies live on the aggregate in `GrantsState.pots`, by source: FUND or "subsidy:<id>".

Accounting (docs/decisions/0005-cooperation-fund-accounting.md, docs/rules.md "Dedicated
resources"): what comes in is dedicated at once (association plan: income carried to fonds dédiés
19x through 689x; general plan: deferred income 487x), and released as it is used (19x → 789x;
487x → income).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.money import EUR

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.cooperative import Cooperative

FUND = "fund"  # the cooperation fund's pot; a subsidy's pot is "subsidy:<id>" (':' is never in an id)


def subsidy_source(subsidy_id: str) -> str:
    return f"subsidy:{subsidy_id}"


@dataclass(frozen=True)
class Figures:
    """A pot's totals (or one movement of them), in cents.

    inflow: what the pot may commit (contributions paid in; the subsidy granted);
    received: cash in (contributions paid in; subsidy tranches received);
    used: spent on the pot's purpose outside calls (subsidies); reserved: unawarded part of
    the envelopes of its open calls; awarded: grants awarded net of withdrawals; paid: grants paid.
    """

    inflow_cents: int = 0
    received_cents: int = 0
    used_cents: int = 0
    reserved_cents: int = 0
    awarded_cents: int = 0
    paid_cents: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def scaled(self, sign: int) -> Figures:
        return Figures(*(sign * getattr(self, f.name) for f in fields(self)))

    @property
    def unspent_cents(self) -> int:
        """The dedicated balance: 195 / 4875 for the fund, 194 / 4876 for a subsidy."""
        return self.inflow_cents - self.used_cents - self.awarded_cents

    @property
    def available_cents(self) -> int:
        """What a new call or a direct use may still commit."""
        return self.unspent_cents - self.reserved_cents

    @property
    def cash_cents(self) -> int:
        """Cash the pot holds: what grant payments may still draw."""
        return self.received_cents - self.paid_cents

    @property
    def committed_cents(self) -> int:
        """Promised but not paid: awards outstanding plus the unawarded envelopes of open calls."""
        return self.awarded_cents - self.paid_cents + self.reserved_cents

    def as_dict(self) -> dict[str, int]:
        return {
            **{f.name: getattr(self, f.name) for f in fields(self)},
            "unspent_cents": self.unspent_cents,
            "available_cents": self.available_cents,
            "cash_cents": self.cash_cents,
            "committed_cents": self.committed_cents,
        }


@dataclass
class Pot:
    """Dated movements of a pot, so its figures are exact as of any date."""

    moves: list[tuple[date, Figures]] = field(default_factory=list)
    totals: Figures = Figures()
    calls_opened: int = 0

    def lowest_from(self, day: date, measure: Callable[[Figures], int]) -> int:
        """The lowest value of `measure` on `day` and on every later date a movement has.

        Spending X from `day` on is safe when this is >= X: a back-dated command cannot make
        the pot negative on a date between it and movements recorded before it. Bounded by
        the pot's movements."""
        moves = sorted(self.moves, key=lambda m: m[0])
        totals, i = Figures(), 0
        while i < len(moves) and moves[i][0] <= day:
            totals, i = totals + moves[i][1], i + 1
        lowest = measure(totals)
        while i < len(moves):
            same_day = moves[i][0]
            while i < len(moves) and moves[i][0] == same_day:
                totals, i = totals + moves[i][1], i + 1
            lowest = min(lowest, measure(totals))
        return lowest


def move_pot(coop: Cooperative, source: str, delta: Figures, sign: int, day: date) -> None:
    pot = coop.grants.pots[source]
    pot.moves.append((day, delta.scaled(sign)))
    pot.totals = pot.totals + delta.scaled(sign)
    assert pot.totals.available_cents >= 0 and pot.totals.cash_cents >= 0, f"pot {source} of {coop.slug} below zero: {pot.totals}"


def pot_name(source: str) -> str:
    return "the cooperation fund" if source == FUND else f"subsidy {source.split(':', 1)[1]}"


def _source_roles(source: str) -> tuple[str, str, str, str, str | None]:
    """(dedicated, income, dedication, release, party) roles of a pot's resource."""
    if source == FUND:
        return "cooperation_fund", "fund_contribution_income", "fund_dedication", "fund_release", None
    return "subsidy_dedicated", "subsidy_income", "subsidy_dedication", "subsidy_release", source.split(":", 1)[1]


def inflow_postings(coop: Cooperative, source: str, debit: list[Any], amount_cents: int) -> list[list[Any]]:
    """A dedicated resource comes in against `debit` (bank or receivable).

    Association plan (ANC 2018-06): income (7551 / 741) carried at once to fonds dédiés
    (6895 → 195, 6894 → 194), so 19x always shows the unspent part. General plan (no fonds
    dédiés): deferred income (4875 / 4876), recognised as income when used."""
    dedicated, income, dedication, _release, party = _source_roles(source)
    role = coop.chart.role
    if coop.legal_form.uses_association_plan:
        return [
            debit,
            [role(income), None, EUR, -amount_cents],
            [role(dedication), None, EUR, amount_cents],
            [role(dedicated), party, EUR, -amount_cents],
        ]
    return [debit, [role(dedicated), party, EUR, -amount_cents]]


def release_postings(coop: Cooperative, source: str, amount_cents: int) -> list[list[Any]]:
    """The dedicated resource used (19x → 789x; 487x → 7xx); negative amounts re-dedicate it."""
    dedicated, _income, _dedication, release, party = _source_roles(source)
    return [[coop.chart.role(dedicated), party, EUR, amount_cents], [coop.chart.role(release), None, EUR, -amount_cents]]
