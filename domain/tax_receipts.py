"""Tax receipts (reçus fiscaux) for the gifts of the donations family (docs/rules.md, "Tax receipts").

- **Eligibility.** A cooperative declares, dated, that it is (or no longer is) eligible to issue
  receipts, on one of the legal bases of BASES; each basis says which legal forms it fits (rule
  `basis_fits_legal_form`): a SCIC, a SCOP or a CAE is a commercial company and is not an
  organisme d'intérêt général, so it may declare only a favourable ruling (rescrit) naming it.
- **Issuing.** `IssueTaxReceipts(year, issued_on)` issues one receipt per donor (and basis) for
  the year's gifts received on or before `issued_on`, on a day the cooperative was eligible, and
  not receipted yet: a re-run issues receipts for new gifts only, or nothing. Numbers run
  `<year>-0001`, `<year>-0002`... per cooperative and gift year, without gaps, never reused.
  Anonymous parts of crowdfunding payouts get none; a gift already reversed gets none.
- **Correction.** A gift reversed after its receipt was issued flags the receipt (`flagged`);
  `CorrectTaxReceipt` then issues a receipt under a new number that cancels and replaces it
  (`corrects`) for the gifts still standing, or, when none is left, cancels it
  (TaxReceiptCancelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.accounts import LegalForm
from domain.donations_state import CrowdfundingPayoutReceived, DonationReceived, donations_state
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.identities import identities_state
from domain.roles import FINANCIAL, STATUTES
from domain.rules import identifier, not_before, text, whole_number
from domain.tax_receipts_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    IssuedReceipt,
    ReceiptEligibilityDeclared,
    TaxReceiptCancelled,
    TaxReceiptIssued,
    TaxReceiptsState,
    flagged,
    tax_receipts_state,
)

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass(frozen=True)
class Basis:
    """A legal ground for issuing receipts: what the receipt prints, the law, the legal forms it
    fits, and whether a reference (a decree, a ruling) must be given."""

    label: str
    law: str
    forms: frozenset[LegalForm]
    reference_required: bool = False


_ASSOCIATION = frozenset({LegalForm.ASSOCIATION})
BASES: dict[str, Basis] = {
    "general_interest": Basis(
        "Œuvre ou organisme d'intérêt général", "CGI art. 200-1 b (particuliers) et 238 bis-1 a (entreprises)", _ASSOCIATION
    ),
    "public_utility": Basis(
        "Association reconnue d'utilité publique", "CGI art. 200-1 a et 238 bis-1 b", _ASSOCIATION, reference_required=True
    ),
    "aid_to_persons_in_difficulty": Basis(
        "Association fournissant gratuitement une aide alimentaire ou des soins médicaux à des personnes en "
        "difficulté ou favorisant leur logement",
        "CGI art. 200-1 ter et 238 bis-1 a",
        _ASSOCIATION,
    ),
    "tax_ruling": Basis(
        "Organisme dont l'éligibilité au régime du mécénat a été confirmée par rescrit fiscal",
        "LPF art. L. 80 C ; CGI art. 200 et 238 bis",
        frozenset(LegalForm),
        reference_required=True,
    ),
}
ARTICLES = {"individual": "200", "company": "238 bis"}  # the article of the CGI, by donor kind
FORM = "manual_gift"  # every gift recorded here is a don manuel: money handed over without a deed
MAX_PER_RUN = 5_000  # receipts one IssueTaxReceipts issues at most (by donor id): the next run issues the rest


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class DeclareReceiptEligibility:
    """From `effective_date` on, the cooperative is eligible (or, `eligible` false, no longer) to
    issue tax receipts. When eligible: the legal `basis` (a key of BASES), its `mission` (the
    organisation's object) and `address` as its receipts print them, where they are signed
    (`place`), and the `reference` of the decree or ruling the basis rests on where it needs one."""

    coop: str
    eligible: bool
    effective_date: date
    basis: str | None = None
    mission: str | None = None
    address: str | None = None
    place: str | None = None
    reference: str | None = None


@dataclass(frozen=True)
class IssueTaxReceipts:
    """One receipt per donor for the calendar `year`'s gifts not yet receipted, issued on `issued_on`."""

    coop: str
    year: int
    issued_on: date


@dataclass(frozen=True)
class CorrectTaxReceipt:
    """Replaces a receipt one of whose gifts was reversed after it was issued: a new number for the
    gifts still standing (or a cancellation when none is), issued on `issued_on`."""

    coop: str
    receipt_number: str
    issued_on: date


# ---------------------------------------------------------------- deciders


def _optional(value: Any, field: str, max_chars: int) -> str | None:
    return text(value, field, max_chars=max_chars) if value is not None else None


def declare_receipt_eligibility(coop: Cooperative, cmd: DeclareReceiptEligibility, meta: Meta) -> None:
    if not isinstance(cmd.eligible, bool):
        raise InvalidCommand("eligible", "boolean", "say true or false")
    state = tax_receipts_state(coop)
    fields: dict[str, Any] = {
        "basis": None,
        "mission": _optional(cmd.mission, "mission", 500),
        "address": _optional(cmd.address, "address", 300),
        "place": _optional(cmd.place, "place", 100),
        "reference": _optional(cmd.reference, "reference", 300),
    }
    if cmd.eligible:
        if cmd.basis not in BASES:
            raise InvalidCommand("basis", "known_basis", f"{cmd.basis!r} is not one of {', '.join(BASES)}")
        basis = BASES[cmd.basis]
        if coop.legal_form not in basis.forms:
            raise InvalidCommand("basis", "basis_fits_legal_form", _misfit(coop.legal_form, cmd.basis))
        if basis.reference_required and fields["reference"] is None:
            raise InvalidCommand(
                "reference", "required", f"basis {cmd.basis} rests on a decree or a ruling: give its reference and date"
            )
        for name in ("mission", "address"):
            if fields[name] is None:
                raise InvalidCommand(name, "required", f"a receipt prints the organisation's {name}: give it")
        fields["basis"] = cmd.basis
    elif cmd.basis is not None:
        raise InvalidCommand("basis", "no_basis", "a cooperative that is not eligible has no basis: leave it out")
    day = coop.check_effective_date(cmd.effective_date)
    if state.declarations:
        not_before(day, state.declarations[-1]["effective_date"], "effective_date", "the latest declaration")
    # A declaration never changes what a receipt already issued attests.
    not_before(day, state.last_issued_on, "effective_date", "the latest receipt issued")
    coop.record(ReceiptEligibilityDeclared, effective_date=day, meta=meta, eligible=cmd.eligible, **fields)


def _misfit(form: LegalForm, basis: str) -> str:
    fits = [name for name, b in BASES.items() if form in b.forms]
    kind = "an association" if form is LegalForm.ASSOCIATION else f"a {form.value.upper()}, a commercial company,"
    why = (
        ""
        if form is LegalForm.ASSOCIATION
        else ": it is not an organisme d'intérêt général (CGI art. 200 and 238 bis; BOI-RES-BIC-000076, 17 February 2021), "
        "and may issue receipts only where a ruling (rescrit, LPF art. L. 80 C) confirmed it"
    )
    return f"basis {basis} is not open to {kind}{why}; bases open to it: {', '.join(fits)}"


def _lines(coop: Cooperative, year: int, issued_on: date) -> list[dict[str, Any]]:
    """The year's named gifts received on or before `issued_on`, on a day the cooperative was
    eligible, not receipted yet, from donors not forgotten: one line per (gift, donor), by date."""
    state, forgotten = tax_receipts_state(coop), identities_state(coop).forgotten
    lines = []
    for gift in sorted(donations_state(coop).gifts.values(), key=lambda g: (g.received_on, g.gift_id)):
        event, day = gift.receipt, gift.received_on
        if day.year != year or day > issued_on or not isinstance(event, DonationReceived | CrowdfundingPayoutReceived):
            continue
        declaration = state.eligible_on(day)
        if declaration is None:
            continue
        if isinstance(event, DonationReceived):
            donors = [(event.donor_id, event.donor_name, event.donor_address, event.donor_kind, event.amount_cents)]
            method = event.method
        else:  # the itemised backers; the anonymous part gets no receipt
            donors = [
                (b["donor_id"], b["donor_name"], b["donor_address"], b["donor_kind"], b["amount_cents"]) for b in event.backers
            ]
            method = "platform"
        for donor_id, name, address, kind, amount in donors:
            if (gift.gift_id, donor_id) in state.receipted or donor_id in forgotten:
                continue
            lines.append(
                {
                    "gift_id": gift.gift_id,
                    "donor_id": donor_id,
                    "donor_name": name,
                    "donor_address": address,
                    "donor_kind": kind,
                    "basis": declaration["basis"],
                    "gift": {
                        "gift_id": gift.gift_id,
                        "received_on": day.isoformat(),
                        "amount_cents": amount,
                        "method": method,
                        "form": FORM,
                    },
                }
            )
    return lines


def _issuer(coop: Cooperative, declaration: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": coop.name,
        "siren": coop.siren,
        "address": declaration["address"],
        "mission": declaration["mission"],
        "basis": declaration["basis"],
        "reference": declaration["reference"],
        "place": declaration["place"],
    }


def _receipt(
    state: TaxReceiptsState, year: int, lines: list[dict[str, Any]], issuer: dict[str, Any], corrects: str | None
) -> dict[str, Any]:
    """The fields of one receipt for one donor's `lines` (by date), under the next number of `year`'s series."""
    sequence = state.last_sequence.get(year, 0) + 1
    last = lines[-1]
    return {
        "receipt_number": f"{year}-{sequence:04d}",
        "sequence": sequence,
        "year": year,
        "donor_id": last["donor_id"],
        "donor_name": last["donor_name"],
        "donor_address": next((ln["donor_address"] for ln in reversed(lines) if ln["donor_address"]), None),  # the latest given
        "donor_kind": last["donor_kind"],
        "article": ARTICLES[last["donor_kind"]],
        "gifts": [ln["gift"] for ln in lines],
        "total_cents": sum(ln["gift"]["amount_cents"] for ln in lines),
        "issuer": issuer,
        "corrects": corrects,
    }


def issue_tax_receipts(coop: Cooperative, cmd: IssueTaxReceipts, meta: Meta) -> None:
    year = whole_number(cmd.year, "year", minimum=1901, maximum=2199)
    day = coop.check_effective_date(cmd.issued_on, "issued_on")
    not_before(day, date(year, 1, 1), "issued_on", f"the first day of {year}, whose gifts it receipts")
    state = tax_receipts_state(coop)
    if not state.eligible_within(date(year, 1, 1), min(day, date(year, 12, 31))):
        raise InvalidCommand(
            "coop",
            "receipt_eligibility",
            f"{coop.slug} was not eligible to issue tax receipts on any day of {year} up to {day}: "
            "an eligible organisation declares it first (DeclareReceiptEligibility, admin)",
        )
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for line in _lines(coop, year, day):
        groups.setdefault((line["donor_id"], line["basis"]), []).append(line)
    for (_donor, basis), lines in sorted(groups.items())[:MAX_PER_RUN]:  # the rest at the next run
        # What the receipt prints of the organisation: the latest declaration of that basis by the issue date.
        declaration = next(
            d for d in reversed(state.declarations) if d["eligible"] and d["basis"] == basis and d["effective_date"] <= day
        )
        fields = _receipt(state, year, lines, _issuer(coop, declaration), None)
        coop.record(TaxReceiptIssued, effective_date=day, meta=meta, **fields)


def correct_tax_receipt(coop: Cooperative, cmd: CorrectTaxReceipt, meta: Meta) -> None:
    number = identifier(cmd.receipt_number, "receipt_number")
    state = tax_receipts_state(coop)
    receipt = state.receipts.get(number)
    if receipt is None:
        raise NotFound("receipt_number", "known_receipt", f"{coop.slug} has issued no tax receipt {number!r}")
    if not receipt.standing:
        by = f"replaced by {receipt.replaced_by}" if receipt.replaced_by else f"cancelled on {receipt.cancelled_on}"
        raise Conflict("receipt_number", "corrected_once", f"receipt {number} was already {by}")
    reversed_on = donations_state(coop).reversed
    reversed_gifts = [
        {"gift_id": g["gift_id"], "reversed_on": reversed_on[g["gift_id"]].isoformat()}
        for g in receipt.gifts
        if g["gift_id"] in reversed_on
    ]
    if not reversed_gifts:
        raise InvalidCommand(
            "receipt_number", "receipt_flagged", f"no gift of receipt {number} was reversed: it stands as issued"
        )
    day = coop.check_effective_date(cmd.issued_on, "issued_on")
    not_before(day, receipt.issued_on, "issued_on", f"the issue of receipt {number}")
    standing = [g for g in receipt.gifts if g["gift_id"] not in reversed_on]
    if not standing:
        coop.record(TaxReceiptCancelled, effective_date=day, meta=meta, receipt_number=number, reversed_gifts=reversed_gifts)
        return
    # The donor as the standing gifts name them now (a forgotten donor's gifts read as erased).
    events = {g: donations_state(coop).gifts[g].receipt for g in {s["gift_id"] for s in standing}}
    lines = [_donor_line(events[g["gift_id"]], receipt.donor_id, g) for g in standing]
    fields = _receipt(state, receipt.year, lines, receipt.issuer, number)
    coop.record(TaxReceiptIssued, effective_date=day, meta=meta, **fields)


def _donor_line(event: Any, donor_id: str, gift: dict[str, Any]) -> dict[str, Any]:
    if isinstance(event, DonationReceived):
        name, address, kind = event.donor_name, event.donor_address, event.donor_kind
    else:
        backer = next(b for b in event.backers if b["donor_id"] == donor_id)
        name, address, kind = backer["donor_name"], backer["donor_address"], backer["donor_kind"]
    return {"donor_id": donor_id, "donor_name": name, "donor_address": address, "donor_kind": kind, "gift": dict(gift)}


FAMILY = register(
    Family(
        name="tax_receipts",
        commands={
            DeclareReceiptEligibility: Handler(declare_receipt_eligibility, STATUTES),
            IssueTaxReceipts: Handler(issue_tax_receipts, FINANCIAL),
            CorrectTaxReceipt: Handler(correct_tax_receipt, FINANCIAL),
        },
        events={
            "ReceiptEligibilityDeclared": Fact("receipt_eligibility.declared", "cooperative"),
            "TaxReceiptIssued": Fact("tax_receipt.issued", "restricted"),
            "TaxReceiptCancelled": Fact("tax_receipt.cancelled", "restricted"),
        },
        state=TaxReceiptsState,
    )
)
