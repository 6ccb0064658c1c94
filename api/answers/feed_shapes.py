"""The shapes of the lists and dicts inside events, as the events store them: what the change feed's
per-kind models (api/answers/feed.py) are built from, beside the events' own annotations, which say
only `list[dict[str, Any]]` for them. The keys are those the comments beside the events' fields
list (domain/); tests/feed/test_fact_schemas.py sends an event of every kind through the models, so
a key missing here fails there, not in a client.

Keys keep their stored names here (`amount_cents`, `minutes`): the wire's names and amounts are
derived from them in one place (api/answers/feed.py `wire_name`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Shape:
    """One dict (or, `positional`, one list of values in this order) inside an event's field."""

    title: str  # the OpenAPI component's name, unique in the document
    fields: tuple[tuple[str, Any], ...]  # (stored key, type: a Python type, a Shape or Many)
    positional: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Many:
    """A list of `shape`."""

    shape: Shape


# The values of a dict with no fixed keys (an undone event's effect, domain/events.py
# FinancialEvent.effect): text, whole numbers (amounts among them are converted, found by their
# names), flags, or one level of such values by key (a gift's donor kinds by donor).
Scalar = str | int | bool | None
EffectValue = Scalar | dict[str, Scalar]

_COLLEGE = Shape(
    "FactCollege",
    (("code", str), ("name", str | None), ("weight", str | None)),
    doc="A voting college: its code, name and weight in percent (an exact fraction as text, or null: equal shares).",
)
_FEE_BRACKET = Shape(
    "FactFeeBracket",
    (("min_headcount", int), ("max_headcount", int | None), ("amount_cents", int)),
    doc="The yearly fee of members whose headcount is in [min_headcount, max_headcount] (null: no upper bound).",
)
_DONOR = Shape(
    "FactDonor",
    (
        ("donor_id", str | None),
        ("donor_name", str | None),
        ("donor_kind", str | None),
        ("donor_address", str | None),
        ("amount_cents", int),
    ),
    doc="One backer of a crowdfunding payout (or of a carried gift) and what they gave.",
)
_FOUNDER_MEMBER = Shape(
    "FactFounderMember",
    (("member_id", str), ("founder_member_id", str)),
    doc="A member moved into the federation: its id there and in its founder's books.",
)
_MONTH_STRUCTURE = Shape(
    "FactStructureHours",
    (("structure_id", str), ("minutes", int)),
    positional=True,
    doc="The hours worked for one structure in the month.",
)
_MONTH_DAY = Shape(
    "FactDayHours", (("day", int), ("minutes", int)), positional=True, doc="The hours worked on one day of the month."
)

# "<EventName>.<field>" -> the shape of its value.
NESTED: dict[str, Shape | Many] = {
    "CooperativeFounded.colleges": Many(_COLLEGE),
    "StatutesAmended.colleges": Many(_COLLEGE),
    "CooperativeFounded.fee_schedule": Many(_FEE_BRACKET),
    "CollegeRulesSet.fee_schedule": Many(_FEE_BRACKET),
    "CooperativeFounded.voting_policy": Shape(
        "FactVotingPolicy",
        (("require_fee_paid", bool), ("min_shares", int), ("empty_college_policy", str)),
        doc="Who may vote: fee paid, shares held, and what an empty college's weight becomes.",
    ),
    "AdvertisingContractCarried.invoices": Many(
        Shape(
            "FactCarriedAdInvoice",
            (("period", str), ("amount_cents", int), ("paid_cents", int), ("invoiced_on", date)),
            doc="An invoice of the contract in the founder's books, by period.",
        )
    ),
    "BankLineMatched.allocations": Many(
        Shape(
            "FactAllocation",
            (("item", str), ("amount_cents", int), ("entry_number", int | None)),
            doc="What part of the bank line pays which open item, and the entry that records it.",
        )
    ),
    "BankStatementImported.lines": Many(
        Shape(
            "FactBankLine",
            (
                ("line_id", str),
                ("booked_on", date),
                ("value_date", date | None),
                ("amount_cents", int),
                ("label", str),
                ("counterparty_id", str | None),
                ("counterparty_name", str | None),
                ("counterparty_iban", str | None),
                ("reference", str | None),
                ("end_to_end_id", str | None),
                ("return_reason", str | None),
            ),
            doc="A line of the statement as the bank wrote it (signed: money in is positive).",
        )
    ),
    "CertificationCarried.renewals": Many(
        Shape(
            "FactCarriedRenewal",
            (("renewed_on", date), ("previous_expires_on", date), ("fee_cents", int)),
            positional=True,
            doc="A renewal in the founder's books: when, the expiry it extended, its fee.",
        )
    ),
    "ContributionPledgeCarried.declared": Many(
        Shape(
            "FactCarriedResult",
            (("year", int), ("result_cents", int), ("called_cents", int), ("paid_cents", int)),
            doc="A year's declared result under the pledge, its contribution called and paid.",
        )
    ),
    "CrowdfundingPayoutReceived.backers": Many(_DONOR),
    "EarmarkedGiftCarried.donors": Many(_DONOR),
    "CsvMappingSet.mapping": Shape(
        "FactCsvMapping",
        (
            ("separator", str),
            ("encoding", str),
            ("date_format", str),
            ("decimal", str),
            ("thousands", str),
            ("skip_lines", int),
            ("columns", dict[str, int]),
        ),
        doc="How the bank writes its CSV statements; `columns`: column name -> column number (from 0).",
    ),
    "DirectDebitBatchIssued.items": Many(
        Shape(
            "FactDirectDebitItem",
            (
                ("member_id", str),
                ("mandate_id", str),
                ("end_to_end_id", str),
                ("amount_cents", int),
                ("sequence", str),
                ("year", int),
            ),
            doc="One member's debit in the batch.",
        )
    ),
    "FederationRecorded.founders": Many(
        Shape(
            "FactFounder",
            (
                ("coop", str),
                ("name", str | None),
                ("head_number", int),
                ("head_hash", str),
                ("opening_journal_number", int),
                ("college", str),
                ("members", Many(_FOUNDER_MEMBER)),
            ),
            doc="A founder of the federation: its chain head when sealed, its opening entry, its members.",
        )
    ),
    "SharedEmployeeCarried.months": Many(
        Shape(
            "FactCarriedMonth",
            (("period", str), ("structures", Many(_MONTH_STRUCTURE)), ("days", Many(_MONTH_DAY)), ("minimum_cents", int | None)),
            doc="A month of the employee's hours in the founder's books (minimum: the ethical minimum then, if over).",
        )
    ),
    "SharedHoursRebilled.shares": Many(
        Shape(
            "FactRebilledShare",
            (("structure_id", str), ("minutes", int), ("billed_cents", int)),
            positional=True,
            doc="One structure's hours in the month and what it is billed for them.",
        )
    ),
    "SubscriptionCarried.bills": Many(
        Shape(
            "FactCarriedBill",
            (("period", str), ("billed_on", date), ("amount_cents", int), ("paid_cents", int)),
            doc="A bill of the subscription in the founder's books, by period.",
        )
    ),
    "TaxReceiptIssued.gifts": Many(
        Shape(
            "FactReceiptGift",
            (("gift_id", str), ("received_on", date), ("amount_cents", int), ("method", str), ("form", str)),
            doc="A gift the receipt covers.",
        )
    ),
    "TaxReceiptIssued.issuer": Shape(
        "FactReceiptIssuer",
        (
            ("name", str | None),
            ("siren", str | None),
            ("address", str | None),
            ("mission", str | None),
            ("basis", str | None),
            ("reference", str | None),
            ("place", str | None),
        ),
        doc="The cooperative as the receipt names it.",
    ),
    "TaxReceiptCancelled.reversed_gifts": Many(
        Shape("FactReversedGift", (("gift_id", str), ("reversed_on", date)), doc="A gift of the receipt that was reversed.")
    ),
}
