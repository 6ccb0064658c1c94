"""Donations and crowdfunding: gifts from individuals and companies, and the payouts of a
crowdfunding platform (gross collected, the platform's fee, net received), either to the
cooperative (unrestricted) or earmarked for a project or a call for projects.

An earmarked gift is a *dedicated resource* (ANC 2018-06, fonds dédiés): its unspent part is
tracked per gift, with dated movements (domain.pots.Pot), and it can ONLY be used for
its purpose: `UseEarmarkedDonation` names the purpose it spends on and is refused when that is
not the gift's (field `project` or `call_id`, rule `earmarked_purpose`), when the gift is not
earmarked, or beyond what is unspent on its date and every later recorded date.

Accounting (roles in domain/accounts.py, `_FUNDING_*`; same shape as docs/decisions/0005):
- association: individual gifts to 7541 dons manuels, company gifts to 7542 mécénats, received
  on 512 (530 when paid in cash). Earmarked: carried at once to fonds dédiés (6896 → 196, party:
  the gift), so 196 always shows the unspent part and at year end holds what art. 132-1 asks;
  a use brings it back to income (196 → 7896).
- general plan (SCIC/SCOP/CAE, no fonds dédiés): gifts are 7582 libéralités reçues; an
  earmarked gift is deferred income (4877, party: the gift) until used (4877 → 7582).
- crowdfunding: income is the GROSS collected (income and expense are never netted); the
  platform's fee is an expense (622) and the bank receives the net. When earmarked, the fee is
  the first use of the gift (it was spent collecting it), so what stays dedicated is the net.

Tax receipts (reçus fiscaux) are per CALENDAR year (the donor's tax year), per donor: every gift
is money (numéraire). A crowdfunding payout may itemise its backers; what it does not itemise
is anonymous (no receipt). A backer's gift counts on the payout's date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.donations_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    CrowdfundingPayoutReceived,
    DonationReceived,
    DonationsState,
    EarmarkedDonationUsed,
    Gift,
    _eur,
    _GiftReceived,
    _move,
    donations_state,
)
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.money import EUR, EurosIn, Unit, to_minor
from domain.roles import FINANCIAL
from domain.rules import identifier, not_before, text

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

DONOR_KINDS = ("individual", "company")
METHODS = ("transfer", "cheque", "card", "cash")
MAX_BACKERS = 500  # per payout: bounds the entry, the event and the receipts it lists
NATURE = "numéraire"  # every gift recorded here is money


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class RecordDonation:
    """A gift of money from an individual (don manuel) or a company (mécénat), unrestricted or
    earmarked for a project or a call for projects (give at most one of `project`, `call_id`)."""

    coop: str
    donation_id: str
    donor_id: str
    donor_name: str
    donor_kind: str  # individual | company
    amount: EurosIn
    effective_date: date
    method: str = "transfer"  # transfer | cheque | card | cash
    donor_address: str | None = None  # printed on the tax receipt
    project: str | None = None
    call_id: str | None = None
    piece_ref: str | None = None


@dataclass(frozen=True)
class Backer:
    """One itemised backer of a crowdfunding campaign, for the tax receipts."""

    donor_id: str
    donor_name: str
    amount: EurosIn
    donor_kind: str = "individual"
    donor_address: str | None = None


@dataclass(frozen=True)
class RecordCrowdfundingPayout:
    """A platform's payout of a campaign: `gross` collected from backers, less the platform's
    `fee`, received net. `backers` itemises (part of) the gross; the rest is anonymous."""

    coop: str
    payout_id: str
    platform: str
    campaign: str
    gross: EurosIn
    fee: EurosIn
    backers: list[Backer]
    effective_date: date
    project: str | None = None
    call_id: str | None = None
    piece_ref: str | None = None


@dataclass(frozen=True)
class UseEarmarkedDonation:
    """Spend part of an earmarked gift (donation or payout) on the purpose it was given for; the
    expenses themselves are recorded on their own accounts. Name the purpose you spend on."""

    coop: str
    donation_id: str
    amount: EurosIn
    label: str
    effective_date: date
    project: str | None = None
    call_id: str | None = None
    piece_ref: str | None = None


# ---------------------------------------------------------------- deciders


def _optional_text(value: Any, field_name: str, max_chars: int = 200) -> str | None:
    return text(value, field_name, max_chars=max_chars) if value is not None else None


def _donor(coop: Cooperative, donor_id: Any, name: Any, kind: Any, address: Any, where: str = "") -> dict[str, Any]:
    donor_id = identifier(donor_id, f"{where}donor_id")
    if kind not in DONOR_KINDS:
        raise InvalidCommand(f"{where}donor_kind", "known_donor_kind", f"{kind!r} is not one of {', '.join(DONOR_KINDS)}")
    known = donations_state(coop).donor_kinds.get(donor_id)
    if known is not None and known != kind:
        raise InvalidCommand(f"{where}donor_kind", "same_donor_kind", f"donor {donor_id} is recorded as {known}, not {kind}")
    return {
        "donor_id": donor_id,
        "donor_name": text(name, f"{where}donor_name", max_chars=200),
        "donor_kind": kind,
        "donor_address": _optional_text(address, f"{where}donor_address", max_chars=300),
    }


def _purpose(coop: Cooperative, project: Any, call_id: Any) -> str | None:
    """ "project:<id>", "call:<id>" (a call of this cooperative) or None (unrestricted)."""
    if project is not None and call_id is not None:
        raise InvalidCommand("call_id", "one_purpose", "earmark for a project or for a call for projects, not both")
    if project is not None:
        return f"project:{identifier(project, 'project')}"
    if call_id is not None:
        call_id = identifier(call_id, "call_id")
        if call_id not in coop.grants.calls:
            raise NotFound("call_id", "known_call", f"{coop.slug} has no call for projects {call_id!r}")
        return f"call:{call_id}"
    return None


def _new_gift_id(coop: Cooperative, value: Any, field_name: str) -> str:
    gift_id = identifier(value, field_name)
    if gift_id in donations_state(coop).ids_used:
        raise Conflict(field_name, "unique_gift", f"a donation or payout {gift_id!r} is already recorded in {coop.slug}")
    return gift_id


def _dedication(coop: Cooperative, gift_id: str, purpose: str | None, income_role: str, amount_cents: int) -> list[list[Any]]:
    """The gift's credit side: income, plus its carrying to fonds dédiés when earmarked
    (association), or deferred income alone when earmarked (general plan)."""
    role = coop.chart.role
    if purpose is None:
        return [[role(income_role), None, EUR, -amount_cents]]
    if coop.legal_form.uses_association_plan:
        return [
            [role(income_role), None, EUR, -amount_cents],
            [role("donation_dedication"), None, EUR, amount_cents],
            [role("donation_dedicated"), gift_id, EUR, -amount_cents],
        ]
    return [[role("donation_dedicated"), gift_id, EUR, -amount_cents]]


def _release(coop: Cooperative, gift_id: str, amount_cents: int) -> list[list[Any]]:
    return [
        [coop.chart.role("donation_dedicated"), gift_id, EUR, amount_cents],
        [coop.chart.role("donation_release"), None, EUR, -amount_cents],
    ]


def record_donation(coop: Cooperative, cmd: RecordDonation, meta: Meta) -> None:
    donation_id = _new_gift_id(coop, cmd.donation_id, "donation_id")
    donor = _donor(coop, cmd.donor_id, cmd.donor_name, cmd.donor_kind, cmd.donor_address)
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    if cmd.method not in METHODS:
        raise InvalidCommand("method", "known_method", f"{cmd.method!r} is not one of {', '.join(METHODS)}")
    purpose = _purpose(coop, cmd.project, cmd.call_id)
    piece_ref = _optional_text(cmd.piece_ref, "piece_ref", max_chars=100)
    day = coop.check_effective_date(cmd.effective_date)
    received = coop.chart.role("cash" if cmd.method == "cash" else "bank")
    income = "donation_income" if donor["donor_kind"] == "individual" else "sponsorship_income"
    kind = "Don" if donor["donor_kind"] == "individual" else "Mécénat"
    coop.record_entry(
        DonationReceived,
        effective_date=day,
        meta=meta,
        label=f"{kind} – {donor['donor_id']}" + (f" – affecté {purpose}" if purpose else ""),
        postings=[[received, None, EUR, amount_cents], *_dedication(coop, donation_id, purpose, income, amount_cents)],
        donation_id=donation_id,
        **donor,
        method=cmd.method,
        purpose=purpose,
        amount_cents=amount_cents,
        piece_ref=piece_ref,
    )


def record_crowdfunding_payout(coop: Cooperative, cmd: RecordCrowdfundingPayout, meta: Meta) -> None:
    payout_id = _new_gift_id(coop, cmd.payout_id, "payout_id")
    platform = text(cmd.platform, "platform", max_chars=100)
    campaign = text(cmd.campaign, "campaign", max_chars=200)
    gross_cents = to_minor(cmd.gross, Unit.EUR, "gross")
    fee_cents = to_minor(cmd.fee, Unit.EUR, "fee", allow_zero=True)
    if fee_cents >= gross_cents:
        raise InvalidCommand(
            "fee", "below_gross", f"the platform's fee {_eur(fee_cents)} must be less than the {_eur(gross_cents)} collected"
        )
    if not isinstance(cmd.backers, list) or len(cmd.backers) > MAX_BACKERS:
        raise InvalidCommand("backers", "max_items", f"a payout itemises at most {MAX_BACKERS} backers")
    backers, seen = [], set()
    for i, b in enumerate(cmd.backers):
        where = f"backers[{i}]."
        backer = _donor(coop, b.donor_id, b.donor_name, b.donor_kind, b.donor_address, where)
        if backer["donor_id"] in seen:
            raise InvalidCommand(
                f"{where}donor_id", "unique_backer", f"backer {backer['donor_id']} is listed twice: add the amounts"
            )
        seen.add(backer["donor_id"])
        backers.append({**backer, "amount_cents": to_minor(b.amount, Unit.EUR, f"{where}amount")})
    itemised = sum(b["amount_cents"] for b in backers)
    if itemised > gross_cents:
        raise InvalidCommand("backers", "within_gross", f"the backers' {_eur(itemised)} exceed the {_eur(gross_cents)} collected")
    purpose = _purpose(coop, cmd.project, cmd.call_id)
    piece_ref = _optional_text(cmd.piece_ref, "piece_ref", max_chars=100)
    day = coop.check_effective_date(cmd.effective_date)
    role = coop.chart.role
    postings = [[role("bank"), None, EUR, gross_cents - fee_cents]]
    if fee_cents:
        postings.append([role("crowdfunding_fees"), None, EUR, fee_cents])
    postings += _dedication(coop, payout_id, purpose, "donation_income", gross_cents)
    if fee_cents and purpose is not None:
        postings += _release(coop, payout_id, fee_cents)  # the fee is the first use of the earmarked gift
    coop.record_entry(
        CrowdfundingPayoutReceived,
        effective_date=day,
        meta=meta,
        label=f"Financement participatif {platform} – {campaign}",
        postings=postings,
        payout_id=payout_id,
        platform=platform,
        campaign=campaign,
        purpose=purpose,
        gross_cents=gross_cents,
        fee_cents=fee_cents,
        backers=backers,
        piece_ref=piece_ref,
    )


def use_earmarked_donation(coop: Cooperative, cmd: UseEarmarkedDonation, meta: Meta) -> None:
    gift_id = identifier(cmd.donation_id, "donation_id")
    gift = donations_state(coop).gifts.get(gift_id)
    if gift is None:
        raise NotFound("donation_id", "known_donation", f"{coop.slug} has no donation or payout {gift_id!r}")
    if gift.purpose is None:
        raise InvalidCommand("donation_id", "earmarked", f"gift {gift_id} is unrestricted: it has no dedicated funds to use")
    if cmd.project is None and cmd.call_id is None:
        raise InvalidCommand("project", "required", "name the purpose this money is spent on: a project or a call_id")
    if cmd.project is not None and cmd.call_id is not None:
        raise InvalidCommand("call_id", "one_purpose", "a use funds one purpose: a project or a call for projects")
    spent_on = (
        f"project:{identifier(cmd.project, 'project')}"
        if cmd.project is not None
        else f"call:{identifier(cmd.call_id, 'call_id')}"
    )
    if spent_on != gift.purpose:
        # The rule of an earmarked gift: its money funds its purpose and nothing else.
        raise InvalidCommand(
            "project" if cmd.project is not None else "call_id",
            "earmarked_purpose",
            f"gift {gift_id} is earmarked for {gift.purpose}: it cannot fund {spent_on}",
        )
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    label = text(cmd.label, "label", max_chars=200)
    piece_ref = _optional_text(cmd.piece_ref, "piece_ref", max_chars=100)
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, gift.received_on, "effective_date", f"the receipt of gift {gift_id}")
    unspent = gift.pot.lowest_from(day, lambda f: f.unspent_cents)
    if amount_cents > unspent:
        raise InvalidCommand(
            "amount",
            "donation_unspent",
            f"{_eur(amount_cents)} exceeds the {_eur(max(unspent, 0))} of gift {gift_id} not yet used from {day}",
        )
    coop.record_entry(
        EarmarkedDonationUsed,
        effective_date=day,
        meta=meta,
        label=f"Utilisation du don affecté {gift_id} – {label}",
        postings=_release(coop, gift_id, amount_cents),
        donation_id=gift_id,
        purpose=gift.purpose,
        amount_cents=amount_cents,
        piece_ref=piece_ref,
    )


FAMILY = register(
    Family(
        name="donations",
        commands={
            RecordDonation: Handler(record_donation, FINANCIAL),
            RecordCrowdfundingPayout: Handler(record_crowdfunding_payout, FINANCIAL),
            UseEarmarkedDonation: Handler(use_earmarked_donation, FINANCIAL),
        },
        events={
            "DonationReceived": Fact("donation.received", "entries", journal="BQ"),
            "CrowdfundingPayoutReceived": Fact("crowdfunding_payout.received", "entries", journal="BQ"),
            "EarmarkedDonationUsed": Fact("earmarked_donation.used", "entries", journal="OD"),
            "EarmarkedGiftCarried": Fact("earmarked_gift.carried", "activities"),
        },
        state=DonationsState,
        managed={"donation_dedicated": (RecordDonation, RecordCrowdfundingPayout, UseEarmarkedDonation)},
        carriers=("domain.donations_carry:carry_earmarked_gifts",),
        carry_order=60,
    )
)
