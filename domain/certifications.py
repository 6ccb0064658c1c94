"""Certifications: a member (a provider) is certified for a fee, for a validity of 24 months
by default, then renewed, or revoked. "Is X certified on D" is a date-range question.

Terms (fee, validity in months, renewal window in days) are set by the cooperative and
dated; a grant or renewal uses the terms in force on its date and bills their fee.

- A certification covers [granted_on, expires_on): `expires_on` is the first day it no longer
  holds. N months after D is the same calendar day N months later, or the first day of the
  month after when that month is shorter (31 Jan + 1 month = 1 Mar): always a full duration.
- Renewal happens before expiry, inside the renewal window (90 days by default), and extends
  from the current expiry, so early renewal loses nothing and validity stays continuous. After
  expiry the certification has lapsed: the member needs a new grant (a new certification id).
- Revocation is dated: the member is not certified from that day on. The fee is not refunded.
- A member holds at most one certification at a time: a new grant starts when the last ends.
- Fees billed and paid are dated movements (domain/certifications_state.py, with the events): a payment, or the
  reversal of a grant or renewal, is judged on its date and on every later recorded date, so a
  fee is never paid beyond what is billed on any date, even when back-dated.

The fee is income of the day it is billed: members_receivable (411, party = member) against
certification_income (706). Spreading it over the validity through 487 (produits constatés
d'avance) is a year-end cut-off adjustment, which belongs to the closing of the fiscal year:
projections/certifications.py `deferred_fees` computes, as of any date, the part of each fee
that covers later days (pro rata temporis by days, rounded down to the cent), which is the
amount the closing posts to 487 and releases the next day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from domain.certifications_state import (  # noqa: F401  (the state and its events, kept apart; re-exported)
    Certification,
    CertificationFeePaid,
    CertificationGranted,
    CertificationRenewed,
    CertificationRevoked,
    CertificationsState,
    CertificationTermsSet,
)
from domain.errors import Conflict, InvalidCommand
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.membership import check_member_on
from domain.money import EurosIn, Unit, format_minor, to_minor
from domain.roles import FINANCIAL, STATUTES
from domain.rules import identifier, not_before, text, whole_number

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

DEFAULT_VALIDITY_MONTHS = 24
DEFAULT_RENEWAL_WINDOW_DAYS = 90
MAX_VALIDITY_MONTHS = 120
MAX_RENEWAL_WINDOW_DAYS = 366


def add_months(day: date, months: int) -> date:
    """The same calendar day `months` later; the first of the month after if that day is missing."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    try:
        return date(year, month, day.day)
    except ValueError:  # 29-31 in a shorter month
        return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class SetCertificationTerms:
    coop: str
    fee: EurosIn  # billed at each grant and renewal
    effective_date: date
    validity_months: int = DEFAULT_VALIDITY_MONTHS
    renewal_window_days: int = DEFAULT_RENEWAL_WINDOW_DAYS


@dataclass(frozen=True)
class GrantCertification:
    coop: str
    certification_id: str
    member_id: str
    effective_date: date  # first day certified


@dataclass(frozen=True)
class RenewCertification:
    coop: str
    certification_id: str
    effective_date: date


@dataclass(frozen=True)
class RevokeCertification:
    coop: str
    certification_id: str
    effective_date: date  # first day no longer certified
    reason: str


@dataclass(frozen=True)
class PayCertificationFee:
    coop: str
    certification_id: str
    amount: EurosIn
    effective_date: date


# ---------------------------------------------------------------- deciders


def set_terms(coop: Cooperative, cmd: SetCertificationTerms, meta: Meta) -> None:
    fee_cents = to_minor(cmd.fee, Unit.EUR, "fee")
    validity = whole_number(cmd.validity_months, "validity_months", minimum=1, maximum=MAX_VALIDITY_MONTHS)
    window = whole_number(cmd.renewal_window_days, "renewal_window_days", minimum=1, maximum=MAX_RENEWAL_WINDOW_DAYS)
    day = coop.check_effective_date(cmd.effective_date)
    terms = coop.certifications.terms
    if terms and day <= terms[-1]["effective_date"]:
        raise InvalidCommand(
            "effective_date",
            "after_previous_terms",
            f"terms are dated after the terms in force from {terms[-1]['effective_date']}",
        )
    coop.record(
        CertificationTermsSet,
        effective_date=day,
        meta=meta,
        fee_cents=fee_cents,
        validity_months=validity,
        renewal_window_days=window,
    )


def _terms(coop: Cooperative, day: date) -> dict[str, Any]:
    terms = coop.certifications.terms_on(day)
    if terms is None:
        raise InvalidCommand("effective_date", "terms_defined", f"no certification terms (fee, validity) are in force on {day}")
    return terms


def grant_certification(coop: Cooperative, cmd: GrantCertification, meta: Meta) -> None:
    state = coop.certifications
    certification_id = identifier(cmd.certification_id, "certification_id")
    if certification_id in state.certifications:
        raise Conflict("certification_id", "unique_certification", f"certification {certification_id!r} already exists")
    member = coop.member(cmd.member_id)
    day = coop.check_effective_date(cmd.effective_date)
    check_member_on(member, day)
    terms = _terms(coop, day)
    latest = state.latest(member.member_id)
    if latest is not None and latest.ends_on > day:
        raise Conflict(
            "member_id",
            "one_certification_at_a_time",
            f"{member.member_id} holds {latest.certification_id} until {latest.ends_on}: renew it, or grant from then on",
        )
    fee = terms["fee_cents"]
    receivable, income = coop.chart.role("members_receivable"), coop.chart.role("certification_income")
    coop.record_entry(
        CertificationGranted,
        effective_date=day,
        meta=meta,
        label=f"Certification {certification_id} – {member.member_id}",
        postings=[[receivable, member.member_id, Unit.EUR.value, fee], [income, None, Unit.EUR.value, -fee]],
        certification_id=certification_id,
        member_id=member.member_id,
        fee_cents=fee,
        validity_months=terms["validity_months"],
        expires_on=add_months(day, terms["validity_months"]),
    )


def renew_certification(coop: Cooperative, cmd: RenewCertification, meta: Meta) -> None:
    cert = coop.certifications.certification(cmd.certification_id)
    member = coop.member(cert.member_id)
    if cert.revoked_on is not None:
        raise InvalidCommand("certification_id", "not_revoked", f"{cert.certification_id} was revoked on {cert.revoked_on}")
    day = coop.check_effective_date(cmd.effective_date)
    check_member_on(member, day)
    not_before(day, cert.last_change_on, "effective_date", f"the last change of {cert.certification_id}")
    if day >= cert.expires_on:
        raise InvalidCommand(
            "effective_date", "not_expired", f"{cert.certification_id} expired on {cert.expires_on}: grant a new certification"
        )
    terms = _terms(coop, day)
    opens_on = cert.expires_on - timedelta(days=terms["renewal_window_days"])
    if day < opens_on:
        raise InvalidCommand(
            "effective_date",
            "renewal_window",
            f"{cert.certification_id} can be renewed from {opens_on} (expires on {cert.expires_on})",
        )
    fee = terms["fee_cents"]
    receivable, income = coop.chart.role("members_receivable"), coop.chart.role("certification_income")
    coop.record_entry(
        CertificationRenewed,
        effective_date=day,
        meta=meta,
        label=f"Renouvellement certification {cert.certification_id} – {member.member_id}",
        postings=[[receivable, member.member_id, Unit.EUR.value, fee], [income, None, Unit.EUR.value, -fee]],
        certification_id=cert.certification_id,
        member_id=member.member_id,
        fee_cents=fee,
        validity_months=terms["validity_months"],
        previous_expires_on=cert.expires_on,
        expires_on=add_months(cert.expires_on, terms["validity_months"]),
    )


def revoke_certification(coop: Cooperative, cmd: RevokeCertification, meta: Meta) -> None:
    cert = coop.certifications.certification(cmd.certification_id)
    if cert.revoked_on is not None:
        raise Conflict("certification_id", "revoked_once", f"{cert.certification_id} was already revoked on {cert.revoked_on}")
    reason = text(cmd.reason, "reason")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, cert.last_change_on, "effective_date", f"the last change of {cert.certification_id}")
    if day >= cert.expires_on:
        raise InvalidCommand(
            "effective_date", "in_force", f"{cert.certification_id} expired on {cert.expires_on}: nothing to revoke"
        )
    coop.record(
        CertificationRevoked,
        effective_date=day,
        meta=meta,
        certification_id=cert.certification_id,
        member_id=cert.member_id,
        reason=reason,
    )


def pay_certification_fee(coop: Cooperative, cmd: PayCertificationFee, meta: Meta) -> None:
    cert = coop.certifications.certification(cmd.certification_id)
    amount_cents = to_minor(cmd.amount, Unit.EUR, "amount")
    day = coop.check_effective_date(cmd.effective_date)
    not_before(day, cert.granted_on, "effective_date", f"the grant of {cert.certification_id}")
    due, due_on = cert.unpaid_from(day)  # on its date and every later one: never paid beyond billed
    if amount_cents > due:
        raise InvalidCommand(
            "amount",
            "no_overpayment",
            f"{format_minor(amount_cents, Unit.EUR)} EUR exceeds the {format_minor(due, Unit.EUR)} EUR "
            f"still due on {cert.certification_id}" + (f" as of {due_on}" if due_on != day else ""),
        )
    member = coop.member(cert.member_id)
    bank, receivable = coop.chart.role("bank"), coop.chart.role("members_receivable")
    coop.record_entry(
        CertificationFeePaid,
        effective_date=day,
        meta=meta,
        label=f"Règlement certification {cert.certification_id} – {member.member_id}",
        postings=[[bank, None, Unit.EUR.value, amount_cents], [receivable, member.member_id, Unit.EUR.value, -amount_cents]],
        certification_id=cert.certification_id,
        member_id=member.member_id,
        amount_cents=amount_cents,
    )


FAMILY = register(
    Family(
        name="certifications",
        commands={
            SetCertificationTerms: Handler(set_terms, STATUTES | FINANCIAL),
            GrantCertification: Handler(grant_certification, FINANCIAL),
            RenewCertification: Handler(renew_certification, FINANCIAL),
            RevokeCertification: Handler(revoke_certification, STATUTES | FINANCIAL),
            PayCertificationFee: Handler(pay_certification_fee, FINANCIAL),
        },
        events={
            "CertificationTermsSet": Fact("certification_terms.set", "activities"),
            "CertificationGranted": Fact("certification.granted", "entries", journal="VT"),
            "CertificationRenewed": Fact("certification.renewed", "entries", journal="VT"),
            "CertificationRevoked": Fact("certification.revoked", "activities"),
            "CertificationFeePaid": Fact("certification_fee.paid", "entries", journal="BQ"),
            "CertificationCarried": Fact("certification.carried", "activities"),
        },
        state=CertificationsState,
        managed={"members_receivable": (PayCertificationFee,)},
    )
)
