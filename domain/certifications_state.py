"""The state of the certifications family (domain/certifications.py), kept on the Cooperative
aggregate: each certification with its dates and its fees billed and paid as dated movements;
and the events that build it, which are its only writers (each reversible one says when undoing
it would break a rule on a date already recorded). The commands and deciders that record these
events are in domain/certifications.py, which re-exports what is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import InvalidCommand, NotFound
from domain.events import CoopEvent, FinancialEvent
from domain.money import Unit, format_minor

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass
class Certification:
    certification_id: str
    member_id: str
    granted_on: date
    expires_on: date  # first day no longer certified, renewals included
    # Dated movements, so a back-dated payment or reversal is judged on every later date: a
    # reversed fee or payment adds a negative movement (a reversed grant removes the certification).
    fee_moves: list[tuple[date, int]] = field(default_factory=list)  # (effective date, +/- cents billed)
    payments: list[tuple[date, int]] = field(default_factory=list)  # (effective date, +/- cents paid)
    revoked_on: date | None = None
    renewals: list[tuple[date, date, int]] = field(default_factory=list)  # (renewed on, previous expiry, fee cents)

    @property
    def billed_cents(self) -> int:
        return sum(cents for _day, cents in self.fee_moves)

    @property
    def paid_cents(self) -> int:
        return sum(cents for _day, cents in self.payments)

    def unpaid_from(self, day: date) -> tuple[int, date]:
        """The least still due (billed - paid) on `day` and on every later recorded date, and when."""
        return FinancialEvent.lowest_from([*self.fee_moves, *((on, -cents) for on, cents in self.payments)], day)

    @property
    def ends_on(self) -> date:
        """First day the member is no longer certified by this certification."""
        return self.expires_on if self.revoked_on is None else min(self.expires_on, self.revoked_on)

    @property
    def last_change_on(self) -> date:
        if self.revoked_on is not None:
            return self.revoked_on
        return self.renewals[-1][0] if self.renewals else self.granted_on

    def certified_on(self, day: date) -> bool:
        return self.granted_on <= day < self.ends_on


@dataclass
class CertificationsState:
    """What the rules of this family need to remember, kept on the Cooperative aggregate."""

    terms: list[dict[str, Any]] = field(default_factory=list)  # dated versions, oldest first
    certifications: dict[str, Certification] = field(default_factory=dict)
    by_member: dict[str, list[str]] = field(default_factory=dict)  # member -> certification ids, oldest first

    def terms_on(self, day: date) -> dict[str, Any] | None:
        found = None
        for version in self.terms:
            if version["effective_date"] <= day:
                found = version
        return found

    def certification(self, certification_id: Any) -> Certification:
        try:
            return self.certifications[certification_id]
        except (KeyError, TypeError):
            raise NotFound("certification_id", "known_certification", f"no certification {certification_id!r}") from None

    def latest(self, member_id: str) -> Certification | None:
        ids = self.by_member.get(member_id)
        return self.certifications[ids[-1]] if ids else None

    def certified_on(self, member_id: str, day: date) -> bool:
        return any(self.certifications[c].certified_on(day) for c in self.by_member.get(member_id, []))


# ---------------------------------------------------------------- events


class CertificationTermsSet(CoopEvent):
    fee_cents: int
    validity_months: int
    renewal_window_days: int

    def apply(self, coop: Cooperative) -> None:
        coop.certifications.terms.append(
            {
                "effective_date": self.effective_date,
                "fee_cents": self.fee_cents,
                "validity_months": self.validity_months,
                "renewal_window_days": self.renewal_window_days,
            }
        )


class CertificationGranted(FinancialEvent):
    certification_id: str
    member_id: str
    fee_cents: int
    validity_months: int
    expires_on: date

    def effect(self) -> dict[str, Any]:
        return {
            "certification_id": self.certification_id,
            "member_id": self.member_id,
            "fee_cents": self.fee_cents,
            "expires_on": self.expires_on.isoformat(),
        }

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        state, cid, member_id = coop.certifications, effect["certification_id"], effect["member_id"]
        if sign > 0:
            expires_on = date.fromisoformat(effect["expires_on"])
            state.certifications[cid] = Certification(cid, member_id, day, expires_on, [(day, effect["fee_cents"])])
            state.by_member.setdefault(member_id, []).append(cid)
        else:
            removed = state.certifications.pop(cid)
            assert state.by_member[member_id].pop() == cid and not removed.renewals and removed.paid_cents == 0
            if not state.by_member[member_id]:
                del state.by_member[member_id]

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        cert = coop.certifications.certifications[effect["certification_id"]]
        _check_latest_change(coop, cert, "its grant")
        if cert.renewals:
            raise InvalidCommand(
                "entry_number",
                "latest_certification_change",
                f"{cert.certification_id} was renewed since: reverse the renewals first",
            )
        _check_fee_unpaid(cert, effect["fee_cents"], day, "its grant")


class CertificationRenewed(FinancialEvent):
    certification_id: str
    member_id: str
    fee_cents: int
    validity_months: int
    previous_expires_on: date
    expires_on: date

    def effect(self) -> dict[str, Any]:
        return {
            "certification_id": self.certification_id,
            "fee_cents": self.fee_cents,
            "previous_expires_on": self.previous_expires_on.isoformat(),
            "expires_on": self.expires_on.isoformat(),
        }

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        cert = coop.certifications.certifications[effect["certification_id"]]
        previous, new = date.fromisoformat(effect["previous_expires_on"]), date.fromisoformat(effect["expires_on"])
        if sign > 0:
            assert cert.expires_on == previous, f"renewal of {cert} from {previous}"
            cert.renewals.append((day, previous, effect["fee_cents"]))
            cert.expires_on = new
        else:
            _renewed_on, undone_previous, fee = cert.renewals.pop()
            assert (undone_previous, fee, cert.expires_on) == (previous, effect["fee_cents"], new), f"reversed renewal of {cert}"
            cert.expires_on = previous
        cert.fee_moves.append((day, sign * effect["fee_cents"]))
        assert 0 <= cert.paid_cents <= cert.billed_cents, f"{cert} paid outside 0..billed"

    @classmethod
    def check_reversible(cls, coop: Cooperative, effect: dict[str, Any], day: date) -> None:
        cert = coop.certifications.certifications[effect["certification_id"]]
        _check_latest_change(coop, cert, "this renewal")
        if cert.expires_on.isoformat() != effect["expires_on"]:
            raise InvalidCommand(
                "entry_number",
                "latest_certification_change",
                f"{cert.certification_id} was renewed again since: reverse the later renewal first",
            )
        _check_fee_unpaid(cert, effect["fee_cents"], day, "this renewal")


class CertificationRevoked(CoopEvent):
    certification_id: str
    member_id: str
    reason: str

    def apply(self, coop: Cooperative) -> None:
        coop.certifications.certifications[self.certification_id].revoked_on = self.effective_date


class CertificationFeePaid(FinancialEvent):
    certification_id: str
    member_id: str
    amount_cents: int

    def effect(self) -> dict[str, Any]:
        return {"certification_id": self.certification_id, "amount_cents": self.amount_cents}

    @classmethod
    def apply_effect(cls, coop: Cooperative, effect: dict[str, Any], sign: int, day: date) -> None:
        """A payment's reversal (dated on or after it) takes back only what it added: paid stays
        within 0..billed on every date, nothing to check."""
        cert = coop.certifications.certifications[effect["certification_id"]]
        cert.payments.append((day, sign * effect["amount_cents"]))
        assert 0 <= cert.paid_cents <= cert.billed_cents, f"{cert} paid outside 0..billed"


def _check_fee_unpaid(cert: Certification, fee_cents: int, day: date, what: str) -> None:
    """Billed without `fee_cents` from `day` on must cover what is paid on `day` and on every later
    recorded date: a payment made after `day` and refunded since was paid on nothing billed."""
    unpaid, unpaid_on = cert.unpaid_from(day)
    if unpaid < fee_cents:
        paid = sum(cents for on, cents in cert.payments if on <= unpaid_on)
        raise InvalidCommand(
            "entry_number",
            "fee_unpaid",
            f"{cert.certification_id} has {format_minor(paid, Unit.EUR)} EUR paid on {unpaid_on}, beyond its fees "
            f"without {what} from {day}: reverse those payments first, or date this after their reversal",
        )


def _check_latest_change(coop: Cooperative, cert: Certification, what: str) -> None:
    """A member's certification history is undone from its end; a revoked one stays as recorded."""
    if coop.certifications.latest(cert.member_id) is not cert:
        raise InvalidCommand(
            "entry_number",
            "latest_certification_change",
            f"{cert.member_id} was certified again after {cert.certification_id}: {what} can no longer be reversed",
        )
    if cert.revoked_on is not None:
        raise InvalidCommand(
            "entry_number",
            "latest_certification_change",
            f"{cert.certification_id} was revoked on {cert.revoked_on}: {what} can no longer be reversed",
        )
