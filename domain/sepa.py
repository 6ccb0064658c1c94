"""SEPA direct debit of membership fees: the cooperative's creditor identity, members' mandates,
batches of collections, what the bank credited and what it returned.

A batch collects, for every member with a valid mandate, that year's fee still due (domain/fees.py).
Issuing it moves no money; the collection records each item as the usual fee payment (PayFee's
decider, on the bank account, dated the day the bank credited the batch); a return undoes one
item's payment (411 of the member debited again against 512) so the fee is due again. The rules
that are SEPA's (identifiers, calendar, lead time, return reasons) are in domain/sepa_rules.py;
docs/rules.md "SEPA direct debit" says them in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain import bank_matching, sepa_rules
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import CoopEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.fees import PayFee, pay_fee
from domain.money import Unit, format_minor
from domain.roles import FINANCIAL, MEMBERSHIP, STATUTES
from domain.rules import a_date, not_before, text, whole_number
from domain.sepa_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    COLLECTED,
    ISSUED,
    RETURNED,
    Batch,
    CreditorIdentifierSet,
    DirectDebitBatchCollected,
    DirectDebitBatchIssued,
    DirectDebitReturned,
    Item,
    Mandate,
    MandateRecorded,
    MandateRevoked,
    SepaState,
    find_item,
    sepa_state,
)

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_BATCH_ID_CHARS = 28  # so "<batch id>-<5 digits>" fits the 35 characters of an end-to-end id
MAX_ITEMS_PER_BATCH = 99_999
MAX_CREDITOR_NAME_CHARS = 70  # the pain.008 name field


def today() -> date:
    """The clock's date, as every event's recorded time (domain/closing.py does the same)."""
    return CoopEvent.create_timestamp().date()


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class SetCreditorIdentifier:
    coop: str
    creditor_id: str  # the SEPA creditor identifier (ICS), e.g. FR72ZZZ123456
    iban: str  # the cooperative's account the collections are credited to
    bic: str
    name: str  # the creditor's name as banks show it to debtors


@dataclass(frozen=True)
class RecordMandate:
    coop: str
    member_id: str
    mandate_id: str  # the unique mandate reference (RUM)
    iban: str
    bic: str
    signed_on: date
    sequence: str = "first"  # "first", or "recurring" for a mandate already collected elsewhere


@dataclass(frozen=True)
class RevokeMandate:
    coop: str
    mandate_id: str
    effective_date: date
    reason: str


@dataclass(frozen=True)
class IssueDirectDebits:
    coop: str
    batch_id: str
    year: int
    collection_date: date  # the due date asked of the banks


@dataclass(frozen=True)
class RecordDirectDebitCollection:
    coop: str
    batch_id: str
    collected_on: date  # the day the bank credited the batch


@dataclass(frozen=True)
class RecordDirectDebitReturn:
    coop: str
    batch_id: str
    end_to_end_id: str
    reason_code: str  # ISO 20022 ExternalReturnReason1Code (domain/sepa_rules.py RETURN_REASONS)
    returned_on: date


# ---------------------------------------------------------------- deciders


def set_creditor_identifier(coop: Cooperative, cmd: SetCreditorIdentifier, meta: Meta) -> None:
    creditor = sepa_rules.creditor_id(cmd.creditor_id)
    account = sepa_rules.iban(cmd.iban)
    bank = sepa_rules.bic(cmd.bic, account)
    name = text(cmd.name, "name", max_chars=MAX_CREDITOR_NAME_CHARS)
    day = coop.check_effective_date(today())
    coop.record(
        CreditorIdentifierSet,
        effective_date=day,
        meta=meta,
        creditor_id=creditor,
        creditor_iban=account,
        creditor_bic=bank,
        creditor_name=name,
    )


def record_mandate(coop: Cooperative, cmd: RecordMandate, meta: Meta) -> None:
    member = coop.member(cmd.member_id)
    mandate_id = sepa_rules.sepa_id(cmd.mandate_id, "mandate_id")
    if mandate_id in sepa_state(coop).mandates:
        raise Conflict("mandate_id", "unique_mandate", f"mandate reference {mandate_id!r} is already used in {coop.slug}")
    account = sepa_rules.iban(cmd.iban)
    bank = sepa_rules.bic(cmd.bic, account)
    signed_on = a_date(cmd.signed_on, "signed_on")
    now = today()
    if signed_on > now:
        raise InvalidCommand("signed_on", "not_in_future", f"{signed_on} is after today ({now})")
    not_before(signed_on, member.admitted_on, "signed_on", f"{member.member_id}'s admission")
    member.check_active()
    coop.record(
        MandateRecorded,
        effective_date=coop.check_effective_date(now),
        meta=meta,
        member_id=member.member_id,
        mandate_id=mandate_id,
        iban=account,
        bic=bank,
        signed_on=signed_on,
        sequence=sepa_rules.sequence(cmd.sequence),
    )


def _mandate(coop: Cooperative, mandate_id: Any) -> Mandate:
    found = sepa_state(coop).mandates.get(mandate_id) if isinstance(mandate_id, str) else None
    if found is None:
        raise NotFound("mandate_id", "known_mandate", f"{coop.slug} has no mandate {mandate_id!r}")
    return found


def revoke_mandate(coop: Cooperative, cmd: RevokeMandate, meta: Meta) -> None:
    mandate = _mandate(coop, cmd.mandate_id)
    if mandate.revoked_on is not None:
        raise Conflict("mandate_id", "revoked_once", f"mandate {mandate.mandate_id} was revoked on {mandate.revoked_on}")
    reason = text(cmd.reason, "reason")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, mandate.signed_on, "effective_date", f"the signature of mandate {mandate.mandate_id}")
    coop.record(MandateRevoked, effective_date=day, meta=meta, mandate_id=mandate.mandate_id, member_id=mandate.member_id,
                reason=reason)  # fmt: skip


def _batch_id(coop: Cooperative, value: Any) -> str:
    batch_id = sepa_rules.sepa_id(value, "batch_id")
    if len(batch_id) > MAX_BATCH_ID_CHARS or not batch_id.replace("-", "").isalnum():
        raise InvalidCommand(
            "batch_id",
            "batch_id",
            f"{batch_id!r} must be 1 to {MAX_BATCH_ID_CHARS} letters, digits or '-' (it prefixes end-to-end ids)",
        )
    if batch_id in sepa_state(coop).batches:
        raise Conflict("batch_id", "unique_batch", f"batch {batch_id!r} already exists in {coop.slug}")
    return batch_id


def issue_direct_debits(coop: Cooperative, cmd: IssueDirectDebits, meta: Meta) -> None:
    state = sepa_state(coop)
    if state.creditor is None:
        raise InvalidCommand(
            "coop", "creditor_identifier_set", f"{coop.slug} has no SEPA creditor identifier: SetCreditorIdentifier first"
        )
    batch_id = _batch_id(coop, cmd.batch_id)
    year = whole_number(cmd.year, "year", minimum=1901, maximum=2199)
    collection_date = a_date(cmd.collection_date, "collection_date")
    now = today()
    earliest = sepa_rules.earliest_collection(now)
    if collection_date < earliest or not sepa_rules.is_business_day(collection_date):
        raise InvalidCommand(
            "collection_date",
            "sepa_lead_time",
            f"{collection_date} must be a TARGET business day at least {sepa_rules.LEAD_BUSINESS_DAYS} business days "
            f"after today ({now}): {earliest} at the earliest",
        )
    items: list[dict[str, Any]] = []
    for (member_id, call_year), call in sorted(coop.fee_calls.items()):
        mandate = state.mandate_of(member_id, collection_date)
        if call_year != year or call.due_cents <= 0 or mandate is None or state.pending(member_id, year) is not None:
            continue
        if len(items) == MAX_ITEMS_PER_BATCH:
            raise InvalidCommand("batch_id", "batch_size", f"a batch holds at most {MAX_ITEMS_PER_BATCH} items")
        items.append(
            {
                "member_id": member_id,
                "mandate_id": mandate.mandate_id,
                "end_to_end_id": f"{batch_id}-{len(items) + 1:05d}",
                "amount_cents": call.due_cents,
                "sequence": mandate.sequence,
                "year": year,
            }
        )
    if not items:
        raise InvalidCommand(
            "year", "something_to_collect", f"no member has both a valid mandate on {collection_date} and a {year} fee still due"
            " outside another batch"
        )  # fmt: skip
    coop.record(
        DirectDebitBatchIssued,
        effective_date=coop.check_effective_date(now),
        meta=meta,
        batch_id=batch_id,
        year=year,
        collection_date=collection_date,
        items=items,
        total_cents=sum(i["amount_cents"] for i in items),
    )


def _batch(coop: Cooperative, batch_id: Any) -> Batch:
    found = sepa_state(coop).batches.get(batch_id) if isinstance(batch_id, str) else None
    if found is None:
        raise NotFound("batch_id", "known_batch", f"{coop.slug} has no direct-debit batch {batch_id!r}")
    return found


def record_direct_debit_collection(coop: Cooperative, cmd: RecordDirectDebitCollection, meta: Meta) -> None:
    batch = _batch(coop, cmd.batch_id)
    if batch.collected:
        raise Conflict("batch_id", "collected_once", f"batch {batch.batch_id} is already collected")
    day = coop.check_effective_date(cmd.collected_on, "collected_on")
    not_before(day, batch.collection_date, "collected_on", f"the collection date of batch {batch.batch_id}")
    # Each item is the usual fee payment, decided by PayFee's own rules (nothing overpaid): a fee
    # paid by other means since the batch was issued refuses the whole collection, naming it.
    for item in batch.items:
        pay = PayFee(coop.slug, item.member_id, item.year, format_minor(item.amount_cents, Unit.EUR), day)
        pay_fee(coop, pay, meta)
    coop.record(DirectDebitBatchCollected, effective_date=day, meta=meta, batch_id=batch.batch_id, total_cents=batch.total_cents)


def record_direct_debit_return(coop: Cooperative, cmd: RecordDirectDebitReturn, meta: Meta) -> None:
    batch = _batch(coop, cmd.batch_id)
    found = find_item(sepa_state(coop), cmd.end_to_end_id) if isinstance(cmd.end_to_end_id, str) else None
    if found is None or found[0] is not batch:
        raise NotFound("end_to_end_id", "known_item", f"batch {batch.batch_id} has no item {cmd.end_to_end_id!r}")
    item = found[1]
    if item.status == ISSUED:
        raise InvalidCommand("end_to_end_id", "collected_first", f"item {item.end_to_end_id} was never collected")
    if item.status == RETURNED:
        raise Conflict("end_to_end_id", "returned_once", f"item {item.end_to_end_id} was returned on {item.returned_on}")
    reason_code = sepa_rules.return_reason(cmd.reason_code)
    day = coop.check_effective_date(cmd.returned_on, "returned_on")
    assert item.collected_on is not None
    not_before(day, item.collected_on, "returned_on", f"the collection of item {item.end_to_end_id}")
    receivable, bank = coop.chart.role("members_receivable"), coop.chart.role("bank")
    coop.record_entry(
        DirectDebitReturned,
        effective_date=day,
        meta=meta,
        label=f"Retour prélèvement {item.end_to_end_id} ({reason_code}) – cotisation {item.year} – {item.member_id}",
        postings=[
            [receivable, item.member_id, Unit.EUR.value, item.amount_cents],
            [bank, None, Unit.EUR.value, -item.amount_cents],
        ],
        batch_id=batch.batch_id,
        end_to_end_id=item.end_to_end_id,
        member_id=item.member_id,
        mandate_id=item.mandate_id,
        year=item.year,
        amount_cents=item.amount_cents,
        reason_code=reason_code,
    )


PEOPLE = MEMBERSHIP | FINANCIAL  # mandates are collected on paper by the clerk or the treasurer

FAMILY = register(
    Family(
        name="sepa",
        commands={
            SetCreditorIdentifier: Handler(set_creditor_identifier, STATUTES),
            RecordMandate: Handler(record_mandate, PEOPLE),
            RevokeMandate: Handler(revoke_mandate, PEOPLE),
            IssueDirectDebits: Handler(issue_direct_debits, FINANCIAL),
            RecordDirectDebitCollection: Handler(record_direct_debit_collection, FINANCIAL),
            RecordDirectDebitReturn: Handler(record_direct_debit_return, FINANCIAL),
        },
        events={
            "CreditorIdentifierSet": Fact("creditor_identifier.set", "cooperative"),
            "MandateRecorded": Fact("mandate.recorded", "restricted"),
            "MandateRevoked": Fact("mandate.revoked", "restricted"),
            "DirectDebitBatchIssued": Fact("direct_debit_batch.issued", "restricted"),
            "DirectDebitBatchCollected": Fact("direct_debit_batch.collected", "restricted"),
            "DirectDebitReturned": Fact("direct_debit.returned", "entries", journal="BQ"),
        },
        state=SepaState,
        managed={"members_receivable": (RecordDirectDebitCollection, RecordDirectDebitReturn)},
    )
)


def _mandate_ibans(coop: Cooperative, person_id: str) -> list[str]:
    """The IBANs a member gave in mandates: bank lines from them are recognised as theirs."""
    return [m.iban for m in sepa_state(coop).mandates.values() if m.member_id == person_id and m.iban]


if _mandate_ibans not in bank_matching.PAYER_IBANS:  # the bank's proposals know payers by their mandates too
    bank_matching.PAYER_IBANS.append(_mandate_ibans)
