"""A direct debit returned in the next statement: confirming the statement's return line records
the return of the item it names (the fee due again, with the reason code) and ties the line to it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domain.bank import BankLineIn, ImportBankStatement, OpenBankAccount
from domain.bank_state import bank_state
from domain.sepa import RecordDirectDebitCollection, find_item, sepa_state
from domain.sepa_bank import ConfirmDirectDebitReturn
from tests.domain.test_sepa import IBAN_2, Books, rule

OWN_IBAN = "FR7630006000011234567890189"


def _collected_then_returned(books: Books, amount: str, e2e: str, reason: str | None = "AM04") -> str:
    books.do(books.mandate("M-1", "RUM-1", IBAN_2, "PSSTFRPP"))
    books.do(books.batch("B1"))
    books.do(RecordDirectDebitCollection("c", "B1", books.due))
    books.do(OpenBankAccount("c", "BQ", OWN_IBAN, "Compte courant", books.due - timedelta(days=30)))
    returned_on = books.due + timedelta(days=3)
    line = BankLineIn(returned_on, amount, "RETOUR PRLV", bank_ref="R1", end_to_end_id=e2e, return_reason=reason)
    closing = str(1000 + Decimal(amount))
    books.do(ImportBankStatement("c", "BQ", "S-RET", "camt053", "1000", closing, returned_on, [line]))
    (line_id,) = bank_state(books.coop).lines
    return line_id


def test_a_return_line_reopens_the_fee_with_its_reason_and_is_matched():
    books = Books()
    line_id = _collected_then_returned(books, "-100.00", "B1-00001")
    assert books.coop.fee_calls[("M-1", books.year)].fully_paid
    events = books.do(ConfirmDirectDebitReturn("c", line_id))
    assert [e.kind for e in events] == ["DirectDebitReturned", "BankLineMatched"]
    assert events[0].reason_code == "AM04" and events[1].person_id == "M-1"
    assert books.coop.fee_calls[("M-1", books.year)].due_cents == 100_00  # the call is open again
    assert find_item(sepa_state(books.coop), "B1-00001")[1].status == "returned"
    assert bank_state(books.coop).line(line_id).open_cents(books.coop.journal) == 0
    assert rule(books.refused(ConfirmDirectDebitReturn("c", line_id))) == ("line_id", "matched_once")


def test_a_line_that_is_not_a_return_of_an_issued_item_is_refused():
    books = Books()
    line_id = _collected_then_returned(books, "-100.00", "B9-00001")
    assert rule(books.refused(ConfirmDirectDebitReturn("c", line_id))) == ("line_id", "known_item")
    other = Books()
    plain = _collected_then_returned(other, "-100.00", "B1-00001", reason=None)
    assert rule(other.refused(ConfirmDirectDebitReturn("c", plain))) == ("line_id", "return_line")
    third = Books()
    short = _collected_then_returned(third, "-40.00", "B1-00001")
    assert rule(third.refused(ConfirmDirectDebitReturn("c", short))) == ("line_id", "return_amount")
