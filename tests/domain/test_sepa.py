"""SEPA direct debit, pure rules: identifiers (IBAN, BIC, creditor id, mandate reference), the
calendar and lead time, mandates' validity, batches, collections and returns, in memory.

Dates are relative to the clock's today, since the lead time and the signature are judged against it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import sepa_rules
from domain.corrections import ReverseEntry
from domain.errors import DomainError
from domain.fees import CallFee
from domain.sepa import (
    IssueDirectDebits,
    RecordDirectDebitCollection,
    RecordDirectDebitReturn,
    RecordMandate,
    RevokeMandate,
    SetCreditorIdentifier,
    find_item,
    sepa_state,
    today,
)
from tests import builders
from tests.builders import admit

IBAN_1 = "FR7630006000011234567890189"  # Crédit Agricole, BIC AGRIFRPP
IBAN_2 = "FR1420041010050500013M02606"  # La Banque Postale, BIC PSSTFRPP
IBAN_3 = "DE89370400440532013000"  # Commerzbank, BIC COBADEFF
CREDITOR = SetCreditorIdentifier("c", "FR72ZZZ123456", "FR1420041010050500013M02606", "PSSTFRPPXXX", "Réseau démo")


def rule(error: DomainError) -> tuple[str, str]:
    return error.field, error.rule


class Books(builders.Books):
    """The association of the builders, today's fees called for three members, the creditor set."""

    def __init__(self) -> None:
        super().__init__()
        self.today = today()
        self.year = self.today.year
        for member_id in ("M-1", "M-2", "M-3"):
            self.do(admit(self.slug, member_id, "users", date(2020, 2, 1)))
            self.do(CallFee(self.slug, member_id, self.year, date(self.year, 1, 2)))
        self.do(CREDITOR)
        self.due = sepa_rules.earliest_collection(self.today)

    def mandate(self, member_id: str, mandate_id: str, iban: str = IBAN_1, bic: str = "AGRIFRPP", **kw) -> RecordMandate:
        fields = {"signed_on": self.today - timedelta(days=10), "sequence": "first", **kw}
        return RecordMandate(self.slug, member_id, mandate_id, iban, bic, **fields)

    def batch(self, batch_id: str, due: date | None = None) -> IssueDirectDebits:
        return IssueDirectDebits(self.slug, batch_id, self.year, due or self.due)


@pytest.fixture
def books() -> Books:
    return Books()


# ---------------------------------------------------------------- identifiers and calendar


@pytest.mark.parametrize(
    ("command_fields", "expected"),
    [
        ({"iban": "FR7630006000011234567890188"}, ("iban", "iban")),  # checksum
        ({"iban": "FR76300060000112345678901"}, ("iban", "iban")),  # length of the country's format
        ({"iban": "not an iban"}, ("iban", "iban")),
        ({"bic": "AGRI"}, ("bic", "bic")),
        ({"bic": "COBADEFF"}, ("bic", "bic_matches_iban")),  # a German bank for a French account
        ({"bic": "BNPAFRPP"}, ("bic", "bic_matches_iban")),  # another French bank than the IBAN's
        ({"mandate_id": "RUM/" + "x" * 40}, ("mandate_id", "sepa_id")),
        ({"mandate_id": "RUM//1"}, ("mandate_id", "sepa_id")),
        ({"mandate_id": "RUM#1"}, ("mandate_id", "sepa_id")),
        ({"sequence": "FRST"}, ("sequence", "sequence")),
        ({"signed_on": date(2019, 12, 31)}, ("signed_on", "not_before")),  # before the admission
        ({"signed_on": today() + timedelta(days=1)}, ("signed_on", "not_in_future")),
    ],
)
def test_a_mandate_with_a_bad_field_is_refused_naming_it(books: Books, command_fields, expected):
    fields = {"mandate_id": "RUM-1", "iban": IBAN_1, "bic": "AGRIFRPP", **command_fields}
    command = books.mandate("M-1", fields.pop("mandate_id"), fields.pop("iban"), fields.pop("bic"), **fields)
    assert rule(books.refused(command)) == expected


def test_mandate_references_are_unique_and_never_reused(books: Books):
    books.do(books.mandate("M-1", "RUM-1"))
    assert rule(books.refused(books.mandate("M-2", "RUM-1", IBAN_2, "PSSTFRPP"))) == ("mandate_id", "unique_mandate")
    books.do(RevokeMandate("c", "RUM-1", books.today, "changement de banque"))
    assert rule(books.refused(books.mandate("M-1", "RUM-1"))) == ("mandate_id", "unique_mandate")
    assert rule(books.refused(RevokeMandate("c", "RUM-1", books.today, "encore"))) == ("mandate_id", "revoked_once")


def test_creditor_identifier_check_digits_are_iso_7064_mod_97_10():
    assert sepa_rules.creditor_id("DE98ZZZ09999999999") == "DE98ZZZ09999999999"  # the Bundesbank's test id
    assert sepa_rules.creditor_id("fr72 zzz 123456") == "FR72ZZZ123456"
    for bad in ("FR12ZZZ123456", "FR72ZZZ", "72FRZZZ123456", 12):
        with pytest.raises(DomainError) as exc:
            sepa_rules.creditor_id(bad)
        assert exc.value.rule == "creditor_id"


def test_the_lead_time_counts_target_business_days():
    assert sepa_rules.earliest_collection(date(2026, 12, 7)) == date(2026, 12, 9)  # Monday -> Wednesday
    assert sepa_rules.earliest_collection(date(2026, 12, 10)) == date(2026, 12, 14)  # Thursday -> Monday
    assert sepa_rules.earliest_collection(date(2026, 12, 23)) == date(2026, 12, 28)  # over Christmas (25th, weekend)
    assert sepa_rules.earliest_collection(date(2027, 3, 24)) == date(2027, 3, 30)  # Good Friday, Easter Monday
    assert not sepa_rules.is_business_day(date(2027, 5, 1)) and sepa_rules.is_business_day(date(2027, 5, 3))


def test_a_mandate_lapses_36_months_after_its_last_use():
    assert sepa_rules.lapses_on(date(2024, 2, 29)) == date(2027, 2, 28)
    assert sepa_rules.lapses_on(date(2023, 6, 15)) == date(2026, 6, 15)


# ---------------------------------------------------------------- batches


def test_a_batch_holds_exactly_the_members_with_a_valid_mandate_and_a_fee_due(books: Books):
    books.do(books.mandate("M-1", "RUM-1"))
    books.do(books.mandate("M-2", "RUM-2", IBAN_2, "PSSTFRPP"))
    books.do(books.mandate("M-3", "RUM-3", IBAN_3, "COBADEFF", signed_on=date(2021, 1, 4)))  # lapsed since 2024
    books.do(RevokeMandate("c", "RUM-2", books.today, "le membre a révoqué"))
    (event,) = books.do(books.batch("B1"))
    assert [(i["member_id"], i["mandate_id"], i["amount_cents"], i["sequence"]) for i in event.items] == [
        ("M-1", "RUM-1", 100_00, "first")
    ]
    assert event.total_cents == 100_00 and event.items[0]["end_to_end_id"] == "B1-00001"
    # at most one open batch per fee call: nothing is left to collect
    assert rule(books.refused(books.batch("B2"))) == ("year", "something_to_collect")
    assert rule(books.refused(books.batch("B1"))) == ("batch_id", "unique_batch")


def test_a_batch_needs_the_creditor_the_lead_time_and_a_business_day():
    fresh = builders.Books()
    fresh.do(admit("c", "M-1", "users", date(2020, 2, 1)))
    due = sepa_rules.earliest_collection(today())
    assert rule(fresh.refused(IssueDirectDebits("c", "B1", today().year, due))) == ("coop", "creditor_identifier_set")
    books = Books()
    books.do(books.mandate("M-1", "RUM-1"))
    too_soon = books.due - timedelta(days=1)
    assert rule(books.refused(books.batch("B1", too_soon))) == ("collection_date", "sepa_lead_time")
    saturday = books.due + timedelta(days=(5 - books.due.weekday()) % 7)
    assert rule(books.refused(books.batch("B1", saturday))) == ("collection_date", "sepa_lead_time")
    assert rule(books.refused(books.batch("B 1"))) == ("batch_id", "batch_id")


def test_collection_pays_the_fees_and_a_return_opens_them_again(books: Books):
    books.do(books.mandate("M-1", "RUM-1"))
    books.do(books.mandate("M-2", "RUM-2", IBAN_2, "PSSTFRPP"))
    books.do(books.batch("B1"))
    assert rule(books.refused(RecordDirectDebitReturn("c", "B1", "B1-00001", "AM04", books.due))) == (
        "end_to_end_id",
        "collected_first",
    )
    events = books.do(RecordDirectDebitCollection("c", "B1", books.due))
    assert [e.kind for e in events] == ["FeePaid", "FeePaid", "DirectDebitBatchCollected"]
    assert events[0].label == f"Règlement cotisation {books.year} – M-1"
    assert all(books.coop.fee_calls[(m, books.year)].fully_paid for m in ("M-1", "M-2"))
    state = sepa_state(books.coop)
    assert state.mandates["RUM-1"].sequence == "recurring"
    assert rule(books.refused(RecordDirectDebitCollection("c", "B1", books.due))) == ("batch_id", "collected_once")

    (returned,) = books.do(RecordDirectDebitReturn("c", "B1", "B1-00002", "MD01", books.due + timedelta(days=3)))
    assert returned.postings == [["411", "M-2", "EUR", 100_00], ["512", None, "EUR", -100_00]]
    assert books.coop.fee_calls[("M-2", books.year)].due_cents == 100_00
    batch, item = find_item(state, "B1-00002")
    assert (batch.batch_id, item.status, item.reason_code) == ("B1", "returned", "MD01")
    assert state.mandates["RUM-2"].revoked_on is not None  # MD01: no valid mandate
    assert rule(books.refused(RecordDirectDebitReturn("c", "B1", "B1-00002", "AM04", books.due))) == (
        "end_to_end_id",
        "returned_once",
    )
    assert rule(books.refused(RecordDirectDebitReturn("c", "B1", "B1-00009", "AM04", books.due))) == (
        "end_to_end_id",
        "known_item",
    )
    assert rule(books.refused(RecordDirectDebitReturn("c", "B1", "B1-00001", "XX99", books.due))) == (
        "reason_code",
        "return_reason",
    )
    # a new mandate, and the next batch collects the returned fee again, as a first collection
    books.do(books.mandate("M-2", "RUM-2b", IBAN_2, "PSSTFRPP"))
    (again,) = books.do(books.batch("B2"))
    assert [(i["member_id"], i["mandate_id"], i["sequence"]) for i in again.items] == [("M-2", "RUM-2b", "first")]


def test_a_return_can_be_reversed_while_the_fee_is_still_due(books: Books):
    books.do(books.mandate("M-1", "RUM-1"))
    books.do(books.batch("B1"))
    books.do(RecordDirectDebitCollection("c", "B1", books.due))
    (returned,) = books.do(RecordDirectDebitReturn("c", "B1", "B1-00001", "AM04", books.due))
    books.do(ReverseEntry("c", returned.journal_number, "retour saisi par erreur", books.due))
    assert books.coop.fee_calls[("M-1", books.year)].fully_paid
    assert find_item(sepa_state(books.coop), "B1-00001")[1].status == "collected"
