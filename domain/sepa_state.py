"""The state of the SEPA direct debit family (domain/sepa.py), kept on the Cooperative aggregate: the
cooperative's creditor identity, the members' mandates and the batches with their items; and the
events that build it, which are its only writers. The deciders are in domain/sepa.py.

A mandate's IBAN and BIC are the member's personal data: MandateRecorded seals them under the
member's id, and `forget` erases them here. The creditor's IBAN, BIC and name are the
cooperative's own, in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import InvalidCommand
from domain.events import CoopEvent, FinancialEvent
from domain.fees import FeePaid
from domain.money import Unit, format_minor
from domain.personal import Personal, erased_value
from domain.sepa_rules import MANDATE_GONE, lapses_on

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

ISSUED, COLLECTED, RETURNED = "issued", "collected", "returned"


@dataclass
class Mandate:
    mandate_id: str
    member_id: str
    iban: str | None  # None once the member is forgotten
    bic: str | None
    signed_on: date
    sequence: str  # the next collection's: "first" until one went through, then "recurring"
    last_used_on: date | None = None  # the due date of its last collection
    revoked_on: date | None = None
    revoke_reason: str | None = None

    def lapses_on(self) -> date:
        return lapses_on(self.last_used_on or self.signed_on)

    def valid_on(self, day: date) -> bool:
        """Not revoked, signed by `day`, and used (or signed) within the last 36 months."""
        return self.revoked_on is None and self.signed_on <= day < self.lapses_on()


@dataclass
class Item:
    member_id: str
    mandate_id: str
    end_to_end_id: str
    amount_cents: int
    sequence: str
    year: int
    status: str = ISSUED
    collected_on: date | None = None
    returned_on: date | None = None
    reason_code: str | None = None


@dataclass
class Batch:
    batch_id: str
    year: int
    collection_date: date
    issued_on: date
    items: list[Item]

    @property
    def total_cents(self) -> int:
        return sum(item.amount_cents for item in self.items)

    @property
    def collected(self) -> bool:
        return any(item.status != ISSUED for item in self.items)


@dataclass
class SepaState:
    creditor: dict[str, str] | None = None  # {"creditor_id", "iban", "bic", "name"}
    mandates: dict[str, Mandate] = field(default_factory=dict)  # by mandate id; a revoked one stays (never reused)
    batches: dict[str, Batch] = field(default_factory=dict)
    items: dict[str, tuple[str, int]] = field(default_factory=dict)  # end-to-end id -> (batch id, index)

    def forget(self, person_id: str) -> None:
        """A forgotten member's IBAN and BIC read as erased (Cooperative.forget)."""
        for mandate in self.mandates.values():
            if mandate.member_id == person_id:
                mandate.iban, mandate.bic = erased_value("iban", person_id), erased_value("bic", person_id)

    def mandate_of(self, member_id: str, day: date) -> Mandate | None:
        """The member's mandate valid on `day`, the latest signed when several are."""
        valid = [m for m in self.mandates.values() if m.member_id == member_id and m.valid_on(day)]
        return max(valid, key=lambda m: (m.signed_on, m.mandate_id), default=None)

    def pending(self, member_id: str, year: int) -> Item | None:
        """The member's item for that year's fee in a batch not yet collected, if any."""
        for batch in self.batches.values():
            for item in batch.items:
                if item.member_id == member_id and item.year == year and item.status == ISSUED:
                    return item
        return None


def find_item(state: SepaState, end_to_end_id: str) -> tuple[Batch, Item] | None:
    """The batch and item an end-to-end id names, or None: for matching a bank statement's return
    line (CAMT.053 gives the original end-to-end id) to RecordDirectDebitReturn."""
    found = state.items.get(end_to_end_id)
    if found is None:
        return None
    batch = state.batches[found[0]]
    return batch, batch.items[found[1]]


def sepa_state(coop: Cooperative) -> SepaState:
    state: SepaState = coop.sepa  # type: ignore[attr-defined]
    return state


# ---------------------------------------------------------------- events


class CreditorIdentifierSet(CoopEvent):
    """The cooperative's SEPA creditor identity (ICS and the account collections are credited to)."""

    creditor_id: str
    creditor_iban: str
    creditor_bic: str
    creditor_name: str

    def apply(self, coop: Cooperative) -> None:
        sepa_state(coop).creditor = {
            "creditor_id": self.creditor_id,
            "iban": self.creditor_iban,
            "bic": self.creditor_bic,
            "name": self.creditor_name,
        }


class MandateRecorded(CoopEvent):
    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("member_id", ("iban", "bic")),)
    member_id: str
    mandate_id: str
    iban: str
    bic: str
    signed_on: date
    sequence: str

    def apply(self, coop: Cooperative) -> None:
        state = sepa_state(coop)
        assert self.mandate_id not in state.mandates, f"mandate {self.mandate_id} recorded twice"
        state.mandates[self.mandate_id] = Mandate(
            self.mandate_id, self.member_id, self.iban, self.bic, self.signed_on, self.sequence
        )


class MandateRevoked(CoopEvent):
    mandate_id: str
    member_id: str
    reason: str

    def apply(self, coop: Cooperative) -> None:
        mandate = sepa_state(coop).mandates[self.mandate_id]
        mandate.revoked_on, mandate.revoke_reason = self.effective_date, self.reason


class DirectDebitBatchIssued(CoopEvent):
    """Members' open fees of a year, to be collected on their mandates on `collection_date`. No
    entry: no money has moved yet."""

    batch_id: str
    year: int
    collection_date: date
    # [{"member_id", "mandate_id", "end_to_end_id", "amount_cents", "sequence", "year"}]
    items: list[dict[str, Any]]
    total_cents: int

    def apply(self, coop: Cooperative) -> None:
        state = sepa_state(coop)
        items = [Item(**{k: i[k] for k in ("member_id", "mandate_id", "end_to_end_id", "amount_cents", "sequence", "year")})
                 for i in self.items]  # fmt: skip
        assert sum(i.amount_cents for i in items) == self.total_cents, f"batch {self.batch_id} does not add up"
        state.batches[self.batch_id] = Batch(self.batch_id, self.year, self.collection_date, self.effective_date, items)
        for index, item in enumerate(items):
            assert item.end_to_end_id not in state.items, f"end-to-end id {item.end_to_end_id} used twice"
            state.items[item.end_to_end_id] = (self.batch_id, index)


class DirectDebitBatchCollected(CoopEvent):
    """The bank credited the batch. The fee payments are the FeePaid entries recorded with it (one
    per item, dated `effective_date`); here each item is collected and its mandate used."""

    batch_id: str
    total_cents: int

    def apply(self, coop: Cooperative) -> None:
        state = sepa_state(coop)
        for item in state.batches[self.batch_id].items:
            item.status, item.collected_on = COLLECTED, self.effective_date
            mandate = state.mandates[item.mandate_id]
            mandate.sequence, mandate.last_used_on = "recurring", self.effective_date


class DirectDebitReturned(FinancialEvent):
    """An item of a collected batch came back (return, reject or refund): its payment is undone,
    411 of the member debited again against the bank, so the fee is due again. MD01 (no mandate)
    revokes the mandate."""

    batch_id: str
    end_to_end_id: str
    member_id: str
    mandate_id: str
    year: int
    amount_cents: int
    reason_code: str

    def apply(self, coop: Cooperative) -> None:
        super().apply(coop)
        if self.reason_code == MANDATE_GONE:
            mandate = sepa_state(coop).mandates[self.mandate_id]
            if mandate.revoked_on is None:
                mandate.revoked_on, mandate.revoke_reason = self.effective_date, f"retour {self.reason_code}"

    def effect(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "year": self.year,
            "amount_cents": self.amount_cents,
            "end_to_end_id": self.end_to_end_id,
            "reason_code": self.reason_code,
        }

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        """The return takes the payment back (sign +1); its reversal gives it again (sign -1)."""
        FeePaid.apply_effect(coop, effect, -sign, day)
        found = find_item(sepa_state(coop), effect["end_to_end_id"])
        assert found is not None, f"return of an unknown item {effect['end_to_end_id']}"
        item = found[1]
        if sign > 0:
            item.status, item.returned_on, item.reason_code = RETURNED, day, effect["reason_code"]
        else:
            item.status, item.returned_on, item.reason_code = COLLECTED, None, None

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        """Undoing a return pays the fee again: it must still be due that much from `day` on."""
        call = coop.fee_calls[(effect["member_id"], effect["year"])]
        due, due_on = cls.lowest_from([(date.min, call.called_cents), *((d, -c) for d, c in call.payments)], day)
        if due < effect["amount_cents"]:
            raise InvalidCommand(
                "entry_number",
                "no_overpayment",
                f"the {effect['year']} fee of {effect['member_id']} has {format_minor(max(due, 0), Unit.EUR)} EUR due on "
                f"{due_on}: it was paid since the return",
            )
