"""The state of the advertising family (domain/advertising.py), kept on the Cooperative aggregate,
and the events that build it: each contract as signed, with the invoice of each period and its
dated payments.

The events are here, beside the state, because they are its only writers. The commands and the
deciders that record these events are in domain/advertising.py, which re-exports what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent
from domain.money import Unit, format_minor
from domain.personal import Personal, pseudonym
from domain.rules import identifier

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


def _eur(cents: int) -> str:
    return f"{format_minor(cents, Unit.EUR)} EUR"


# ---------------------------------------------------------------- state


@dataclass
class AdInvoice:
    amount_cents: int
    invoiced_on: date
    paid_cents: int = 0
    last_on: date | None = None  # its latest payment
    payments: list[tuple[date, int]] = field(default_factory=list)  # (effective date, +/- cents): paid by any date

    @property
    def due_cents(self) -> int:
        return self.amount_cents - self.paid_cents


@dataclass
class AdContract:
    contract_id: str
    advertiser_id: str
    advertiser_name: str
    placement: str
    period_kind: str
    price_cents: int
    starts_on: date
    ends_on: date
    signed_on: date
    invoices: dict[str, AdInvoice] = field(default_factory=dict)  # by period; at most MAX_PERIODS (domain/advertising.py)
    advertiser_kind: str = "other"  # as signed: a federation carries it (advertising_carry)


@dataclass
class AdvertisingState:
    contracts: dict[str, AdContract] = field(default_factory=dict)

    def forget(self, person_id: str) -> None:
        """A forgotten advertiser's name reads as erased on their contracts (Cooperative.forget)."""
        for contract in self.contracts.values():
            if contract.advertiser_id == person_id:
                contract.advertiser_name = pseudonym(person_id)

    def contract(self, contract_id: Any) -> AdContract:
        contract_id = identifier(contract_id, "contract_id")
        try:
            return self.contracts[contract_id]
        except KeyError:
            raise NotFound("contract_id", "known_contract", f"no advertising contract {contract_id!r}") from None


def advertising_state(coop: Cooperative) -> AdvertisingState:
    """The family's state on the aggregate (made by its declaration, FAMILY in domain/advertising.py)."""
    state: AdvertisingState = coop.advertising  # type: ignore[attr-defined]
    return state


# ---------------------------------------------------------------- events


class AdvertisingContractSigned(CoopEvent):
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("advertiser_id", ("advertiser_name",)),)
    contract_id: str
    advertiser_id: str
    advertiser_name: str
    advertiser_kind: str
    placement: str
    period_kind: str
    price_cents: int
    starts_on: date
    ends_on: date

    def apply(self, coop: Cooperative) -> None:
        advertising_state(coop).contracts[self.contract_id] = AdContract(
            self.contract_id,
            self.advertiser_id,
            self.advertiser_name,
            self.placement,
            self.period_kind,
            self.price_cents,
            self.starts_on,
            self.ends_on,
            self.effective_date,
            advertiser_kind=self.advertiser_kind,
        )


class AdvertisingContractEnded(CoopEvent):
    contract_id: str
    ends_on: date
    reason: str

    def apply(self, coop: Cooperative) -> None:
        advertising_state(coop).contracts[self.contract_id].ends_on = self.ends_on


class AdvertisingInvoiced(FinancialEvent):
    contract_id: str
    advertiser_id: str
    period: str
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "advertiser_id": self.advertiser_id,
            "period": self.period,
            "amount_cents": self.amount_cents,
        }

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        invoices = advertising_state(coop).contracts[effect["contract_id"]].invoices
        if sign < 0:  # check_reversible made sure nothing was paid on it: the period may be invoiced again
            del invoices[effect["period"]]
        else:
            invoices[effect["period"]] = AdInvoice(effect["amount_cents"], day)

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """Nothing may be paid on the invoice from `day` on. AdInvoice keeps no dated payments, only
        their total and `last_on`, the date of its latest payment or payment reversal: when that
        is after `day`, a payment may have stood after `day` (paid, then reversed since), so the
        reversal is refused unless dated on or after it (conservative: a payment and its reversal
        both after `day` cancel out, but cannot be told apart). Otherwise the total is exact."""
        invoice = advertising_state(coop).contracts[effect["contract_id"]].invoices[effect["period"]]
        if invoice.paid_cents:
            raise InvalidCommand(
                "entry_number",
                "invoice_unpaid",
                f"{_eur(invoice.paid_cents)} was paid on {effect['period']}: reverse the payments first",
            )
        if invoice.last_on is not None and invoice.last_on > day:
            raise InvalidCommand(
                "entry_number",
                "later_payments",
                f"the invoice of {effect['period']} has a payment or payment reversal dated {invoice.last_on}, "
                f"after {day}: date this reversal on or after it",
            )


class AdvertisingInvoicePaid(FinancialEvent):
    contract_id: str
    advertiser_id: str
    period: str
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "advertiser_id": self.advertiser_id,
            "period": self.period,
            "amount_cents": self.amount_cents,
        }

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        invoice = advertising_state(coop).contracts[effect["contract_id"]].invoices[effect["period"]]
        invoice.paid_cents += sign * effect["amount_cents"]
        invoice.payments.append((day, sign * effect["amount_cents"]))
        invoice.last_on = max(day, invoice.last_on or day)
        assert 0 <= invoice.paid_cents <= invoice.amount_cents, f"advertising invoice {effect} paid outside 0..invoiced"
