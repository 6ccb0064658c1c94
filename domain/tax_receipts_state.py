"""The state of the tax receipts family (domain/tax_receipts.py), kept on the Cooperative aggregate,
and the events that build it: the dated declarations of eligibility, every receipt issued with the
gifts it covers, the last number used in each year's series, and which gift each receipt covers.

The events are here, beside the state, because they are its only writers. The commands and the
deciders that record these events are in domain/tax_receipts.py, which re-exports what is here.
The state holds no identity (donor names and addresses live in the events, sealed by the store).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.donations_state import donations_state
from domain.events import CoopEvent
from domain.personal import Personal

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

# A gift as a receipt names it: the donation or payout's id and the donor (a crowdfunding payout
# holds several backers, each receipted on their own).
GiftKey = tuple[str, str]


@dataclass
class IssuedReceipt:
    number: str
    year: int
    donor_id: str
    donor_kind: str
    gifts: list[dict[str, Any]]  # as the event lists them: [{"gift_id", "received_on", "amount_cents", "method", "form"}]
    total_cents: int
    issued_on: date
    issuer: dict[str, Any]  # as the event holds it (the cooperative's name, SIREN, address, object, basis)
    corrects: str | None = None
    replaced_by: str | None = None  # the number of the corrected receipt that replaced it
    cancelled_on: date | None = None  # cancelled without replacement: every gift it covered was reversed

    @property
    def standing(self) -> bool:
        """Neither replaced nor cancelled: the receipt the donor holds."""
        return self.replaced_by is None and self.cancelled_on is None


@dataclass
class TaxReceiptsState:
    # Dated declarations, oldest first: {"effective_date", "eligible", "basis", "mission", "address",
    # "place", "reference"}; each holds from its date until the next one.
    declarations: list[dict[str, Any]] = field(default_factory=list)
    receipts: dict[str, IssuedReceipt] = field(default_factory=dict)  # by number
    last_sequence: dict[int, int] = field(default_factory=dict)  # year -> last number used in its series
    receipted: dict[GiftKey, str] = field(default_factory=dict)  # (gift_id, donor_id) -> the receipt covering it
    last_issued_on: date = date.min

    def declaration_on(self, day: date) -> dict[str, Any] | None:
        """The declaration in force on `day` (the last one dated on or before it), or None."""
        found = None
        for declaration in self.declarations:
            if declaration["effective_date"] <= day:
                found = declaration
        return found

    def eligible_on(self, day: date) -> dict[str, Any] | None:
        """The declaration in force on `day` when it says eligible, else None."""
        declaration = self.declaration_on(day)
        return declaration if declaration is not None and declaration["eligible"] else None

    def eligible_within(self, first: date, last: date) -> bool:
        """Eligible on some day of first..last (each declaration holds until the next)."""
        if self.eligible_on(first) is not None:
            return True
        return any(d["eligible"] and first < d["effective_date"] <= last for d in self.declarations)


def tax_receipts_state(coop: Cooperative) -> TaxReceiptsState:
    """The family's state on the aggregate (made by its declaration, FAMILY in domain/tax_receipts.py)."""
    state: TaxReceiptsState = coop.tax_receipts  # type: ignore[attr-defined]
    return state


def flagged(coop: Cooperative) -> list[dict[str, Any]]:
    """Standing receipts that cover a gift reversed since (ReverseEntry): each such gift, to be
    corrected (CorrectTaxReceipt). By receipt number, then gift. Bounded by the receipts issued."""
    reversed_on = donations_state(coop).reversed
    found = []
    for number in sorted(tax_receipts_state(coop).receipts):
        receipt = tax_receipts_state(coop).receipts[number]
        if receipt.standing:
            found += [
                {"receipt_number": number, "gift_id": g["gift_id"], "reversed_on": reversed_on[g["gift_id"]]}
                for g in receipt.gifts
                if g["gift_id"] in reversed_on
            ]
    return found


# ---------------------------------------------------------------- events


class ReceiptEligibilityDeclared(CoopEvent):
    """From its effective date on, the cooperative is (or is no longer) eligible to issue tax
    receipts, on the legal basis given; what its receipts print about it."""

    eligible: bool
    basis: str | None  # a key of domain.tax_receipts.BASES when eligible
    mission: str | None  # the organisation's object, as printed
    address: str | None  # the cooperative's own address (not a person's), as printed
    place: str | None  # where its receipts are signed ("Fait à ...")
    reference: str | None  # the decree, or the ruling (rescrit), the basis rests on

    def apply(self, coop: Cooperative) -> None:
        tax_receipts_state(coop).declarations.append(
            {
                "effective_date": self.effective_date,
                "eligible": self.eligible,
                "basis": self.basis,
                "mission": self.mission,
                "address": self.address,
                "place": self.place,
                "reference": self.reference,
            }
        )


class TaxReceiptIssued(CoopEvent):
    """A receipt (reçu fiscal) for a donor's gifts of one calendar year, numbered `<year>-<n>` in
    that year's series; its effective date is the day it is issued. `corrects`: the number of the
    receipt it cancels and replaces (one of whose gifts was reversed), or None."""

    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("donor_id", ("donor_name", "donor_address")),)
    receipt_number: str
    sequence: int
    year: int
    donor_id: str
    donor_name: str
    donor_address: str | None
    donor_kind: str
    article: str  # the article of the Code général des impôts: "200" (individuals) or "238 bis" (companies)
    gifts: list[dict[str, Any]]  # [{"gift_id", "received_on", "amount_cents", "method", "form"}]
    total_cents: int
    issuer: dict[str, Any]  # {"name", "siren", "address", "mission", "basis", "reference", "place"}
    corrects: str | None

    def apply(self, coop: Cooperative) -> None:
        state = tax_receipts_state(coop)
        state.receipts[self.receipt_number] = IssuedReceipt(
            self.receipt_number,
            self.year,
            self.donor_id,
            self.donor_kind,
            [dict(g) for g in self.gifts],
            self.total_cents,
            self.effective_date,
            dict(self.issuer),
            self.corrects,
        )
        state.last_sequence[self.year] = self.sequence
        state.last_issued_on = max(state.last_issued_on, self.effective_date)
        for gift in self.gifts:
            state.receipted[(gift["gift_id"], self.donor_id)] = self.receipt_number
        if self.corrects is not None:
            state.receipts[self.corrects].replaced_by = self.receipt_number


class TaxReceiptCancelled(CoopEvent):
    """A receipt every gift of which was reversed after it was issued: cancelled, replaced by
    nothing; its number is never used again."""

    receipt_number: str
    reversed_gifts: list[dict[str, Any]]  # [{"gift_id", "reversed_on"}]

    def apply(self, coop: Cooperative) -> None:
        state = tax_receipts_state(coop)
        state.receipts[self.receipt_number].cancelled_on = self.effective_date
        state.last_issued_on = max(state.last_issued_on, self.effective_date)
