"""Subsidies received: a funder (region, department, city...) grants an amount for a purpose,
paid in tranches; what the cooperative receives never exceeds what was granted.

A subsidy is a dedicated resource, tracked as a pot (domain/pots.py): its unspent part is
granted − used directly − awarded by the calls for projects it funds; what is still
*available* also deducts the unawarded envelopes of its open calls. Grant payments from it
never exceed the tranches received.

Accounting (docs/decisions/0005-cooperation-fund-accounting.md): the grant is recognised when
notified (441 receivable against income 741 carried at once to fonds dédiés 6894 → 194 in the
association plan; against deferred income 4876 in the general plan); tranches settle 441;
a use moves the dedicated part back to income (194 → 7894; 4876 → 741).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import FinancialEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.money import EUR, EurosIn, Unit, format_minor, to_minor
from domain.pots import Figures, Pot, inflow_postings, move_pot, release_postings, subsidy_source
from domain.roles import FINANCIAL
from domain.rules import identifier, not_before, text

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass
class Subsidy:
    subsidy_id: str
    funder: str
    purpose: str
    granted_cents: int
    granted_on: date
    received_cents: int = 0
    used_cents: int = 0


@dataclass
class SubsidiesState:
    subsidies: dict[str, Subsidy] = field(default_factory=dict)

    def subsidy(self, subsidy_id: Any, field_name: str = "subsidy_id") -> Subsidy:
        subsidy_id = identifier(subsidy_id, field_name)
        try:
            return self.subsidies[subsidy_id]
        except KeyError:
            raise NotFound(field_name, "known_subsidy", f"no subsidy {subsidy_id!r} is recorded") from None


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class RecordSubsidy:
    """A funder's decision (convention or notification) granting `amount` for `purpose`."""

    coop: str
    subsidy_id: str
    funder: str
    purpose: str
    amount: EurosIn
    effective_date: date


@dataclass(frozen=True)
class ReceiveSubsidy:
    coop: str
    subsidy_id: str
    amount: EurosIn
    effective_date: date


@dataclass(frozen=True)
class UseSubsidy:
    """Part of the subsidy spent on its purpose outside calls for projects (staff, workshops...),
    whose expenses are recorded on their own accounts."""

    coop: str
    subsidy_id: str
    amount: EurosIn
    label: str
    effective_date: date
    piece_ref: str | None = None


# ---------------------------------------------------------------- events


class SubsidyGranted(FinancialEvent):
    subsidy_id: str
    funder: str
    purpose: str
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"subsidy_id": self.subsidy_id, "funder": self.funder, "purpose": self.purpose, "amount_cents": self.amount_cents}

    @classmethod
    def pot_movement(cls, effect: dict[str, Any]) -> tuple[str, Figures]:
        return subsidy_source(effect["subsidy_id"]), Figures(inflow_cents=effect["amount_cents"])

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        subsidy_id, source = effect["subsidy_id"], subsidy_source(effect["subsidy_id"])
        if sign < 0:  # check_reversible made sure nothing else refers to it
            del coop.subsidies.subsidies[subsidy_id]
            del coop.grants.pots[source]
            return
        coop.subsidies.subsidies[subsidy_id] = Subsidy(
            subsidy_id, effect["funder"], effect["purpose"], effect["amount_cents"], day
        )
        coop.grants.pots[source] = Pot()
        move_pot(coop, *cls.pot_movement(effect), sign, day)

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """Cancelling the grant removes the subsidy and its pot: nothing but the grant may stand on
        the pot on `day` or any later recorded date (a tranche received after `day`, even reversed
        since, was received on nothing granted). Calls are never removed: any call refuses."""
        subsidy = coop.subsidies.subsidies[effect["subsidy_id"]]
        pot = coop.grants.pots[subsidy_source(subsidy.subsidy_id)]
        untouched = pot.lowest_from(
            day,
            lambda f: (
                -(abs(f.received_cents) + abs(f.used_cents) + abs(f.reserved_cents) + abs(f.awarded_cents) + abs(f.paid_cents))
            ),
        )
        if untouched < 0 or pot.calls_opened:
            raise InvalidCommand(
                "entry_number",
                "subsidy_untouched",
                f"subsidy {subsidy.subsidy_id} has tranches, uses or calls for projects on {day} or later: "
                "it cannot be cancelled from then on",
            )


class SubsidyReceived(FinancialEvent):
    subsidy_id: str
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        # The date lets a reversal check the pot's cash from then on.
        return {"subsidy_id": self.subsidy_id, "amount_cents": self.amount_cents, "received_on": self.effective_date.isoformat()}

    @classmethod
    def pot_movement(cls, effect: dict[str, Any]) -> tuple[str, Figures]:
        return subsidy_source(effect["subsidy_id"]), Figures(received_cents=effect["amount_cents"])

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        subsidy = coop.subsidies.subsidies[effect["subsidy_id"]]
        subsidy.received_cents += sign * effect["amount_cents"]
        assert 0 <= subsidy.received_cents <= subsidy.granted_cents, f"subsidy {subsidy} received outside 0..granted"
        move_pot(coop, *cls.pot_movement(effect), sign, day)

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """The tranche leaves the pot's cash from `day`, the reversal's date, on (not from
        `received_on`: until `day` it was there): grants paid must stay covered from then on."""
        pot = coop.grants.pots[subsidy_source(effect["subsidy_id"])]
        cash = pot.lowest_from(day, lambda f: f.cash_cents)
        if effect["amount_cents"] > cash:
            raise InvalidCommand(
                "entry_number",
                "fund_covers",
                f"grants were paid from this tranche of subsidy {effect['subsidy_id']} on {day} or later",
            )


class SubsidyUsed(FinancialEvent):
    subsidy_id: str
    amount_cents: int
    piece_ref: str | None

    def effect(self) -> dict[str, Any]:
        return {"subsidy_id": self.subsidy_id, "amount_cents": self.amount_cents}

    @classmethod
    def pot_movement(cls, effect: dict[str, Any]) -> tuple[str, Figures]:
        return subsidy_source(effect["subsidy_id"]), Figures(used_cents=effect["amount_cents"])

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        subsidy = coop.subsidies.subsidies[effect["subsidy_id"]]
        subsidy.used_cents += sign * effect["amount_cents"]
        move_pot(coop, *cls.pot_movement(effect), sign, day)


# ---------------------------------------------------------------- deciders


def _eur(cents: int) -> str:
    return f"{format_minor(cents, Unit.EUR)} EUR"


def record_subsidy(coop: Cooperative, cmd: RecordSubsidy, meta: Meta) -> None:
    subsidy_id = identifier(cmd.subsidy_id, "subsidy_id")
    if subsidy_id in coop.subsidies.subsidies:
        raise Conflict("subsidy_id", "unique_subsidy", f"subsidy {subsidy_id!r} already exists in {coop.slug}")
    funder = text(cmd.funder, "funder", max_chars=200)
    purpose = text(cmd.purpose, "purpose", max_chars=200)
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    day = coop.check_effective_date(cmd.effective_date)
    source = subsidy_source(subsidy_id)
    coop.record_entry(
        SubsidyGranted,
        effective_date=day,
        meta=meta,
        label=f"Subvention accordée – {funder} – {purpose}",
        postings=inflow_postings(
            coop, source, [coop.chart.role("subsidy_receivable"), subsidy_id, EUR, amount_cents], amount_cents
        ),
        subsidy_id=subsidy_id,
        funder=funder,
        purpose=purpose,
        amount_cents=amount_cents,
    )


def receive_subsidy(coop: Cooperative, cmd: ReceiveSubsidy, meta: Meta) -> None:
    subsidy = coop.subsidies.subsidy(cmd.subsidy_id)
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    due = subsidy.granted_cents - subsidy.received_cents
    if amount_cents > due:
        raise InvalidCommand(
            "amount",
            "within_granted",
            f"{_eur(amount_cents)} exceeds the {_eur(due)} of subsidy "
            f"{subsidy.subsidy_id} still to receive ({_eur(subsidy.granted_cents)} granted)",
        )
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, subsidy.granted_on, "effective_date", f"the grant of subsidy {subsidy.subsidy_id}")
    coop.record_entry(
        SubsidyReceived,
        effective_date=day,
        meta=meta,
        label=f"Encaissement subvention – {subsidy.funder}",
        postings=[
            [coop.chart.role("bank"), None, EUR, amount_cents],
            [coop.chart.role("subsidy_receivable"), subsidy.subsidy_id, EUR, -amount_cents],
        ],
        subsidy_id=subsidy.subsidy_id,
        amount_cents=amount_cents,
    )


def use_subsidy(coop: Cooperative, cmd: UseSubsidy, meta: Meta) -> None:
    subsidy = coop.subsidies.subsidy(cmd.subsidy_id)
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    label = text(cmd.label, "label", max_chars=200)
    piece_ref = text(cmd.piece_ref, "piece_ref", max_chars=100) if cmd.piece_ref is not None else None
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, subsidy.granted_on, "effective_date", f"the grant of subsidy {subsidy.subsidy_id}")
    source = subsidy_source(subsidy.subsidy_id)
    available = coop.grants.pots[source].lowest_from(day, lambda f: f.available_cents)
    if amount_cents > available:
        raise InvalidCommand(
            "amount",
            "subsidy_available",
            f"{_eur(amount_cents)} exceeds the {_eur(max(available, 0))} of subsidy "
            f"{subsidy.subsidy_id} neither used nor committed from {day}",
        )
    coop.record_entry(
        SubsidyUsed,
        effective_date=day,
        meta=meta,
        label=f"Utilisation de la subvention {subsidy.funder} – {label}",
        postings=release_postings(coop, source, amount_cents),
        subsidy_id=subsidy.subsidy_id,
        amount_cents=amount_cents,
        piece_ref=piece_ref,
    )


FAMILY = register(
    Family(
        name="subsidies",
        commands={
            RecordSubsidy: Handler(record_subsidy, FINANCIAL),
            ReceiveSubsidy: Handler(receive_subsidy, FINANCIAL),
            UseSubsidy: Handler(use_subsidy, FINANCIAL),
        },
        events={
            "SubsidyGranted": Fact("subsidy.granted", "entries", journal="OD"),
            "SubsidyReceived": Fact("subsidy.received", "entries", journal="BQ"),
            "SubsidyUsed": Fact("subsidy.used", "entries", journal="OD"),
            "SubsidyCarried": Fact("subsidy.carried", "activities"),
        },
        state=SubsidiesState,
        managed={"subsidy_dedicated": (RecordSubsidy, UseSubsidy)},
    )
)
