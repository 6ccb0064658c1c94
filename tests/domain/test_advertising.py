"""Advertising placements, pure rules (no store).

Contract AD1: Bpifrance's banner on the home page, 1,200.00 EUR a month, January to June 2021,
signed 2020-12-15. Contract AD2: Crédit Coopératif, 3,000.00 a quarter, 2021-Q1 to 2021-Q4.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.advertising import (
    EndAdvertisingContract,
    InvoiceAdvertising,
    PayAdvertisingInvoice,
    SignAdvertisingContract,
    advertising_state,
    period_bounds,
)
from domain.corrections import ReverseEntry
from domain.errors import Conflict, InvalidCommand, NotFound
from tests.builders import Books
from tests.domain.test_contributions import rule

D = Decimal
JAN1, JAN20 = date(2021, 1, 1), date(2021, 1, 20)


def sign(
    contract: str = "AD1",
    starts: date = JAN1,
    ends: date = date(2021, 6, 30),
    period: str = "month",
    price: str = "1200",
    advertiser: str = "bpi",
    kind: str = "bank",
) -> SignAdvertisingContract:
    return SignAdvertisingContract(
        "c",
        contract,
        advertiser,
        "Bpifrance",
        kind,
        "Bannière page d'accueil",
        D(price),
        starts,
        ends,
        date(2020, 12, 15),
        period=period,
    )


def invoice(period: str, day: date = JAN1, contract: str = "AD1") -> InvoiceAdvertising:
    return InvoiceAdvertising("c", contract, period, day)


def pay(period: str, amount: str, day: date = JAN20, contract: str = "AD1") -> PayAdvertisingInvoice:
    return PayAdvertisingInvoice("c", contract, period, D(amount), day)


@pytest.fixture
def books() -> Books:
    b = Books()
    b.do(sign())
    b.do(sign("AD2", ends=date(2021, 12, 31), period="quarter", price="3000", advertiser="credit-coop"))
    return b


@pytest.mark.parametrize(
    ("period", "kind", "bounds"),
    [
        ("2021-02", "month", (date(2021, 2, 1), date(2021, 2, 28))),
        ("2024-02", "month", (date(2024, 2, 1), date(2024, 2, 29))),
        ("2021-12", "month", (date(2021, 12, 1), date(2021, 12, 31))),
        ("2021-Q1", "quarter", (date(2021, 1, 1), date(2021, 3, 31))),
        ("2021-Q4", "quarter", (date(2021, 10, 1), date(2021, 12, 31))),
    ],
)
def test_period_bounds(period, kind, bounds):
    assert period_bounds(period, kind) == bounds


def test_a_period_is_invoiced_to_the_advertiser_and_paid_in_parts(books):
    (invoiced,) = books.do(invoice("2021-01"))
    assert invoiced.postings == [["4117", "bpi", "EUR", 120_000], ["7065", None, "EUR", -120_000]]
    assert (invoiced.period, invoiced.amount_cents) == ("2021-01", 120_000)
    (first,) = books.do(pay("2021-01", "700"))
    assert first.postings == [["512", None, "EUR", 70_000], ["4117", "bpi", "EUR", -70_000]]
    error = books.refused(pay("2021-01", "500.01"))
    assert rule(error) == ("amount", "no_overpayment") and "500.00" in error.message
    books.do(pay("2021-01", "500"))
    assert advertising_state(books.coop).contracts["AD1"].invoices["2021-01"].due_cents == 0
    (quarter,) = books.do(invoice("2021-Q2", date(2021, 4, 1), "AD2"))
    assert quarter.postings == [["4117", "credit-coop", "EUR", 300_000], ["7065", None, "EUR", -300_000]]


def test_a_period_is_invoiced_once_within_the_contract(books):
    books.do(invoice("2021-01"))
    error = books.refused(invoice("2021-01", date(2021, 1, 2)))
    assert rule(error) == ("period", "invoiced_once") and isinstance(error, Conflict)
    assert rule(books.refused(invoice("2021-07"))) == ("period", "within_contract")
    assert rule(books.refused(invoice("2020-12"))) == ("period", "within_contract")
    assert rule(books.refused(invoice("2021-Q1"))) == ("period", "period_format")  # AD1 is monthly
    assert rule(books.refused(invoice("2021-01", contract="AD2"))) == ("period", "period_format")


def test_a_reversed_unpaid_invoice_frees_its_period(books):
    books.do(invoice("2021-01"))  # entry 1
    books.do(pay("2021-01", "100"))  # entry 2
    assert rule(books.refused(ReverseEntry("c", 1, "erreur", JAN20))) == ("entry_number", "invoice_unpaid")
    books.do(ReverseEntry("c", 2, "virement rejeté", JAN20))
    books.do(ReverseEntry("c", 1, "facture erronée", JAN20))
    assert "2021-01" not in advertising_state(books.coop).contracts["AD1"].invoices
    books.do(invoice("2021-01", JAN20))


def test_ending_a_contract_early(books):
    books.do(invoice("2021-03", date(2021, 3, 1)))
    assert rule(books.refused(EndAdvertisingContract("c", "AD1", date(2021, 2, 28), "budget", JAN20))) == (
        "ends_on",
        "invoiced_periods",
    )
    assert rule(books.refused(EndAdvertisingContract("c", "AD1", date(2021, 3, 30), "budget", JAN20))) == (
        "ends_on",
        "period_end",
    )
    assert rule(books.refused(EndAdvertisingContract("c", "AD1", date(2021, 6, 30), "budget", JAN20))) == (
        "ends_on",
        "shortens_contract",
    )
    books.do(EndAdvertisingContract("c", "AD1", date(2021, 3, 31), "budget", JAN20))
    assert rule(books.refused(invoice("2021-04"))) == ("period", "within_contract")


@pytest.mark.parametrize(
    ("command", "expected", "kind"),
    [
        (sign(), ("contract_id", "unique_contract"), Conflict),
        (sign("AD9", kind="bakery"), ("advertiser_kind", "known_advertiser_kind"), InvalidCommand),
        (sign("AD9", period="week"), ("period", "known_period"), InvalidCommand),
        (sign("AD9", starts=date(2021, 1, 2)), ("starts_on", "period_start"), InvalidCommand),
        (sign("AD9", ends=date(2021, 6, 29)), ("ends_on", "period_end"), InvalidCommand),
        (sign("AD9", period="quarter", ends=date(2021, 5, 31)), ("ends_on", "period_end"), InvalidCommand),
        (sign("AD9", starts=date(2021, 7, 1)), ("ends_on", "not_before"), InvalidCommand),
        (sign("AD9", ends=date(2031, 12, 31)), ("ends_on", "max_periods"), InvalidCommand),
        (sign("AD9", price="0"), ("price_per_period", "positive"), InvalidCommand),
        (invoice("2021-01", contract="AD9"), ("contract_id", "known_contract"), NotFound),
        (invoice("2021-13"), ("period", "period_format"), InvalidCommand),
        (invoice("0000-01"), ("period", "date_range"), InvalidCommand),
        (invoice("2021-01", date(2020, 12, 14)), ("effective_date", "not_before"), InvalidCommand),
        (pay("2021-02", "10"), ("period", "invoiced"), NotFound),
    ],
)
def test_refusals(books, command, expected, kind):
    error = books.refused(command)
    assert rule(error) == expected and isinstance(error, kind)
