"""The state of the certifications family (domain/certifications.py), kept on the Cooperative
aggregate: each certification with its dates and its fees billed and paid as dated movements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.errors import NotFound
from domain.events import FinancialEvent


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
