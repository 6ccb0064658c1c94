"""Advertising: the platform sells placements to advertisers (institutional and banking actors
presenting their financing offers, incubators, providers), by contract: a placement, a period
length (month or quarter), a price per period and a date range of whole periods.

Each period of a contract is invoiced once (a reversed invoice may be invoiced again), then paid,
possibly in parts, never beyond what is still due on that invoice. A contract can be ended early
as long as no period after the new end is invoiced.

Accounting (roles in domain/accounts.py, `_FUNDING_*`, same numbers in both plans): an invoice
is a receivable on the advertiser (4117, a sub-account of 411, party: the advertiser) against
advertising income (7065, a sub-account of 706 prestations de services); a payment settles
4117 against the bank. No family collects VAT yet (docs/rules.md, Advertising): prices are
booked as invoiced (a cooperative under the VAT franchise, or amounts to be split into 44571
once VAT is modelled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from domain.advertising_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    AdContract,
    AdInvoice,
    AdvertisingContractEnded,
    AdvertisingContractSigned,
    AdvertisingInvoiced,
    AdvertisingInvoicePaid,
    AdvertisingState,
    _eur,
    advertising_state,
)
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.money import EUR, EurosIn, Unit, to_minor
from domain.roles import FINANCIAL, STATUTES
from domain.rules import a_date, identifier, not_before, text

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

ADVERTISER_KINDS = ("bank", "institution", "incubator", "provider", "other")
PERIOD_KINDS = ("month", "quarter")
MAX_PERIODS = 120  # ten years of months: bounds a contract's invoices
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def period_bounds(period: str, kind: str, field_name: str = "period") -> tuple[date, date]:
    """First and last day of a period written "YYYY-MM" (month) or "YYYY-Qn" (quarter)."""
    match = (MONTH if kind == "month" else QUARTER).match(period) if isinstance(period, str) else None
    if match is None:
        example = "2026-03" if kind == "month" else "2026-Q1"
        raise InvalidCommand(field_name, "period_format", f"{period!r} is not a {kind} written like {example}")
    year, n = int(match.group(1)), int(match.group(2))
    if not 1901 <= year <= 2199:  # the dates rules.a_date accepts
        raise InvalidCommand(field_name, "date_range", f"{period} is outside 1901 .. 2199")
    first_month = n if kind == "month" else 3 * n - 2
    start = date(year, first_month, 1)
    next_month = first_month + (1 if kind == "month" else 3)
    end = date(year + (next_month > 12), (next_month - 1) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def period_of(day: date, kind: str) -> str:
    return f"{day.year}-{day.month:02d}" if kind == "month" else f"{day.year}-Q{(day.month - 1) // 3 + 1}"


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class SignAdvertisingContract:
    """A placement sold to an advertiser: `price_per_period` for each period from `starts_on`
    (first day of a period) to `ends_on` (last day of a period)."""

    coop: str
    contract_id: str
    advertiser_id: str
    advertiser_name: str
    advertiser_kind: str  # bank | institution | incubator | provider | other
    placement: str
    price_per_period: EurosIn
    starts_on: date
    ends_on: date
    effective_date: date
    period: str = "month"  # month | quarter


@dataclass(frozen=True)
class InvoiceAdvertising:
    """Invoice one period of a contract ("2026-03" for a month, "2026-Q1" for a quarter)."""

    coop: str
    contract_id: str
    period: str
    effective_date: date


@dataclass(frozen=True)
class PayAdvertisingInvoice:
    coop: str
    contract_id: str
    period: str
    amount: EurosIn
    effective_date: date


@dataclass(frozen=True)
class EndAdvertisingContract:
    """End a contract early, on the last day of a period; later periods must not be invoiced."""

    coop: str
    contract_id: str
    ends_on: date
    reason: str
    effective_date: date


# ---------------------------------------------------------------- deciders


def sign_advertising_contract(coop: Cooperative, cmd: SignAdvertisingContract, meta: Meta) -> None:
    state = advertising_state(coop)
    contract_id = identifier(cmd.contract_id, "contract_id")
    if contract_id in state.contracts:
        raise Conflict("contract_id", "unique_contract", f"advertising contract {contract_id!r} already exists in {coop.slug}")
    advertiser_id = identifier(cmd.advertiser_id, "advertiser_id")
    advertiser_name = text(cmd.advertiser_name, "advertiser_name", max_chars=200)
    if cmd.advertiser_kind not in ADVERTISER_KINDS:
        raise InvalidCommand(
            "advertiser_kind", "known_advertiser_kind", f"{cmd.advertiser_kind!r} is not one of {', '.join(ADVERTISER_KINDS)}"
        )
    placement = text(cmd.placement, "placement", max_chars=200)
    if cmd.period not in PERIOD_KINDS:
        raise InvalidCommand("period", "known_period", f"{cmd.period!r} is not one of {', '.join(PERIOD_KINDS)}")
    price_cents = to_minor(cmd.price_per_period, Unit.EUR, "price_per_period")
    starts_on, ends_on = a_date(cmd.starts_on, "starts_on"), a_date(cmd.ends_on, "ends_on")
    if period_bounds(period_of(starts_on, cmd.period), cmd.period)[0] != starts_on:
        raise InvalidCommand("starts_on", "period_start", f"{starts_on} is not the first day of a {cmd.period}")
    if period_bounds(period_of(ends_on, cmd.period), cmd.period)[1] != ends_on:
        raise InvalidCommand("ends_on", "period_end", f"{ends_on} is not the last day of a {cmd.period}")
    not_before(ends_on, starts_on, "ends_on", "the start of the contract")
    periods = (ends_on.year - starts_on.year) * 12 + ends_on.month - starts_on.month + 1
    if (periods if cmd.period == "month" else periods // 3) > MAX_PERIODS:
        raise InvalidCommand("ends_on", "max_periods", f"a contract covers at most {MAX_PERIODS} periods")
    day = coop.check_effective_date(cmd.effective_date)
    coop.record(
        AdvertisingContractSigned,
        effective_date=day,
        meta=meta,
        contract_id=contract_id,
        advertiser_id=advertiser_id,
        advertiser_name=advertiser_name,
        advertiser_kind=cmd.advertiser_kind,
        placement=placement,
        period_kind=cmd.period,
        price_cents=price_cents,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def _period(contract: AdContract, value: Any) -> str:
    start, end = period_bounds(value, contract.period_kind)
    if start < contract.starts_on or end > contract.ends_on:
        raise InvalidCommand(
            "period",
            "within_contract",
            f"{value} is outside contract {contract.contract_id} ({contract.starts_on} to {contract.ends_on})",
        )
    return str(value)


def invoice_advertising(coop: Cooperative, cmd: InvoiceAdvertising, meta: Meta) -> None:
    contract = advertising_state(coop).contract(cmd.contract_id)
    period = _period(contract, cmd.period)
    if period in contract.invoices:
        raise Conflict(
            "period",
            "invoiced_once",
            f"{period} of contract {contract.contract_id} was invoiced on {contract.invoices[period].invoiced_on}",
        )
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, contract.signed_on, "effective_date", f"the signature of contract {contract.contract_id}")
    amount = contract.price_cents
    coop.record_entry(
        AdvertisingInvoiced,
        effective_date=day,
        meta=meta,
        label=f"Facture publicité {period} – {contract.advertiser_id} – {contract.placement}",
        postings=[
            [coop.chart.role("advertising_receivable"), contract.advertiser_id, EUR, amount],
            [coop.chart.role("advertising_income"), None, EUR, -amount],
        ],
        contract_id=contract.contract_id,
        advertiser_id=contract.advertiser_id,
        period=period,
        amount_cents=amount,
    )


def pay_advertising_invoice(coop: Cooperative, cmd: PayAdvertisingInvoice, meta: Meta) -> None:
    contract = advertising_state(coop).contract(cmd.contract_id)
    period = _period(contract, cmd.period)
    invoice = contract.invoices.get(period)
    if invoice is None:
        raise NotFound("period", "invoiced", f"{period} of contract {contract.contract_id} is not invoiced")
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    day = coop.check_effective_date(cmd.effective_date)
    # Due on its date and on every later date a payment has, as PayFee: a payment dated before a
    # later one's refund must not stand beside it (paid twice in between).
    due, due_on = AdvertisingInvoicePaid.lowest_from(
        [(date.min, invoice.amount_cents), *((d, -c) for d, c in invoice.payments)], day
    )
    if amount_cents > due:
        when = "" if due_on == day else f" (on {due_on})"
        raise InvalidCommand(
            "amount",
            "no_overpayment",
            f"{_eur(amount_cents)} exceeds the {_eur(max(due, 0))} still due{when} on "
            f"{period} of contract {contract.contract_id}",
        )
    not_before(day, invoice.invoiced_on, "effective_date", f"the invoice of {period}")
    coop.record_entry(
        AdvertisingInvoicePaid,
        effective_date=day,
        meta=meta,
        label=f"Règlement publicité {period} – {contract.advertiser_id}",
        postings=[
            [coop.chart.role("bank"), None, EUR, amount_cents],
            [coop.chart.role("advertising_receivable"), contract.advertiser_id, EUR, -amount_cents],
        ],
        contract_id=contract.contract_id,
        advertiser_id=contract.advertiser_id,
        period=period,
        amount_cents=amount_cents,
    )


def end_advertising_contract(coop: Cooperative, cmd: EndAdvertisingContract, meta: Meta) -> None:
    contract = advertising_state(coop).contract(cmd.contract_id)
    ends_on = a_date(cmd.ends_on, "ends_on")
    if period_bounds(period_of(ends_on, contract.period_kind), contract.period_kind)[1] != ends_on:
        raise InvalidCommand("ends_on", "period_end", f"{ends_on} is not the last day of a {contract.period_kind}")
    if not contract.starts_on <= ends_on < contract.ends_on:
        raise InvalidCommand(
            "ends_on", "shortens_contract", f"{ends_on} must be within the contract and before its end {contract.ends_on}"
        )
    later = sorted(p for p in contract.invoices if period_bounds(p, contract.period_kind)[0] > ends_on)
    if later:
        raise InvalidCommand(
            "ends_on", "invoiced_periods", f"periods {', '.join(later[:5])} are invoiced: reverse those invoices first"
        )
    reason = text(cmd.reason, "reason", max_chars=200)
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, contract.signed_on, "effective_date", f"the signature of contract {contract.contract_id}")
    coop.record(
        AdvertisingContractEnded, effective_date=day, meta=meta, contract_id=contract.contract_id, ends_on=ends_on, reason=reason
    )


FAMILY = register(
    Family(
        name="advertising",
        commands={
            SignAdvertisingContract: Handler(sign_advertising_contract, STATUTES | FINANCIAL),
            InvoiceAdvertising: Handler(invoice_advertising, FINANCIAL),
            PayAdvertisingInvoice: Handler(pay_advertising_invoice, FINANCIAL),
            EndAdvertisingContract: Handler(end_advertising_contract, STATUTES | FINANCIAL),
        },
        events={
            "AdvertisingContractSigned": Fact("advertising_contract.signed", "activities"),
            "AdvertisingContractEnded": Fact("advertising_contract.ended", "activities"),
            "AdvertisingInvoiced": Fact("advertising.invoiced", "entries", journal="VT"),
            "AdvertisingInvoicePaid": Fact("advertising_invoice.paid", "entries", journal="BQ"),
            "AdvertisingContractCarried": Fact("advertising_contract.carried", "activities"),
        },
        state=AdvertisingState,
        managed={"advertising_receivable": (InvoiceAdvertising, PayAdvertisingInvoice)},
        carriers=("domain.advertising_carry:carry_advertising_contracts",),
        carry_order=70,
    )
)
