"""Read model of certifications: terms, certifications with their validity, each fee billed.

Queries: who is certified on a date, when a member's certification expires, which expire
between two dates (renewal reminders), fees still due, and the part of the fees that pays
for days after a date (the deferred-income cut-off, see domain/certifications.py).

A certification carried by a federation (domain/receivables_carry.py) is listed as it stood in
its founder, with no fee row: its fees were billed, and are income, in the founder's books.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from domain.certifications import (
    CertificationFeePaid,
    CertificationGranted,
    CertificationRenewed,
    CertificationRevoked,
    CertificationTermsSet,
)
from domain.corrections import EntryReversed
from domain.errors import IntegrityViolation
from domain.receivables_carry import CertificationCarried
from ledger.db import Database, Tx
from projections.base import Projection

_OWN_ENTRIES = {"CertificationGranted", "CertificationRenewed", "CertificationFeePaid"}
_COLUMNS = (
    "certification_id, member_id, granted_on, expires_on, revoked_on, revocation_reason, renewals, billed_cents, paid_cents"
)


class CertificationsProjection(Projection):
    name = "certifications"
    tables = ("certification_terms", "certifications", "certification_fees")
    handlers = {
        CertificationTermsSet: "terms",
        CertificationGranted: "granted",
        CertificationRenewed: "renewed",
        CertificationRevoked: "revoked",
        CertificationFeePaid: "paid",
        CertificationCarried: "carried",
        EntryReversed: "reversed",
    }

    def terms(self, tx: Tx, e: CertificationTermsSet, seq: int) -> None:
        tx.execute(
            "INSERT INTO certification_terms (coop, seq, effective_date, fee_cents, validity_months, renewal_window_days)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (e.coop, seq, e.effective_date.isoformat(), e.fee_cents, e.validity_months, e.renewal_window_days),
        )

    def granted(self, tx: Tx, e: CertificationGranted, seq: int) -> None:
        tx.execute(
            "INSERT INTO certifications (coop, certification_id, member_id, granted_on, expires_on, revoked_on, "
            "revocation_reason,"
            " renewals, billed_cents, paid_cents) VALUES (?, ?, ?, ?, ?, NULL, NULL, 0, ?, 0)",
            (e.coop, e.certification_id, e.member_id, e.effective_date.isoformat(), e.expires_on.isoformat(), e.fee_cents),
        )
        self._fee(tx, e.coop, seq, e.certification_id, e.member_id, e.effective_date, e.fee_cents, e.effective_date, e.expires_on)

    def carried(self, tx: Tx, e: CertificationCarried, _seq: int) -> None:
        tx.execute(
            "INSERT INTO certifications (coop, certification_id, member_id, granted_on, expires_on, revoked_on, "
            "revocation_reason,"
            " renewals, billed_cents, paid_cents) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (
                e.coop,
                e.certification_id,
                e.member_id,
                e.granted_on.isoformat(),
                e.expires_on.isoformat(),
                e.revoked_on.isoformat() if e.revoked_on else None,
                len(e.renewals),
                e.billed_cents,
                e.paid_cents,
            ),
        )

    def renewed(self, tx: Tx, e: CertificationRenewed, seq: int) -> None:
        tx.execute_one(
            "UPDATE certifications SET expires_on = ?, renewals = renewals + 1, billed_cents = billed_cents + ?"
            " WHERE coop = ? AND certification_id = ? AND expires_on = ? AND revoked_on IS NULL",
            (e.expires_on.isoformat(), e.fee_cents, e.coop, e.certification_id, e.previous_expires_on.isoformat()),
        )
        self._fee(
            tx, e.coop, seq, e.certification_id, e.member_id, e.effective_date, e.fee_cents, e.previous_expires_on, e.expires_on
        )

    def revoked(self, tx: Tx, e: CertificationRevoked, _seq: int) -> None:
        day = e.effective_date.isoformat()
        tx.execute_one(
            "UPDATE certifications SET revoked_on = ?, revocation_reason = ?"
            " WHERE coop = ? AND certification_id = ? AND revoked_on IS NULL",
            (day, e.reason, e.coop, e.certification_id),
        )
        # Every fee of the certification still standing on the revocation date loses its later days.
        tx.execute(
            "UPDATE certification_fees SET revoked_on = ? WHERE coop = ? AND certification_id = ?"
            " AND (reversed_on IS NULL OR reversed_on > ?)",
            (day, e.coop, e.certification_id, day),
        )

    def paid(self, tx: Tx, e: CertificationFeePaid, _seq: int) -> None:
        self._pay(tx, e.coop, e.certification_id, e.amount_cents)

    def reversed(self, tx: Tx, e: EntryReversed, _seq: int) -> None:
        if e.reversed_kind not in _OWN_ENTRIES:
            return
        coop, effect, day = e.coop, e.reversed_effect, e.effective_date.isoformat()
        cid = effect["certification_id"]
        if e.reversed_kind == "CertificationFeePaid":
            self._pay(tx, coop, cid, -effect["amount_cents"])
            return
        # The fee row the reversed entry billed: the one standing whose validity ends at the effect's expiry.
        tx.execute_one(
            "UPDATE certification_fees SET reversed_on = ? WHERE coop = ? AND certification_id = ? AND covers_until = ?"
            " AND reversed_on IS NULL",
            (day, coop, cid, effect["expires_on"]),
        )
        if e.reversed_kind == "CertificationGranted":
            tx.execute_one(
                "DELETE FROM certifications WHERE coop = ? AND certification_id = ? AND renewals = 0 AND paid_cents = 0",
                (coop, cid),
            )
        else:
            tx.execute_one(
                "UPDATE certifications SET expires_on = ?, renewals = renewals - 1, billed_cents = billed_cents - ?"
                " WHERE coop = ? AND certification_id = ? AND expires_on = ? AND paid_cents <= billed_cents - ?",
                (effect["previous_expires_on"], effect["fee_cents"], coop, cid, effect["expires_on"], effect["fee_cents"]),
            )

    def _fee(
        self, tx: Tx, coop: str, seq: int, cid: str, member_id: str, billed_on: date, fee: int, start: date, end: date
    ) -> None:
        assert start < end and fee > 0, f"certification {cid}: fee {fee} for {start}..{end}"
        tx.execute(
            "INSERT INTO certification_fees (coop, seq, certification_id, member_id, billed_on, fee_cents, covers_from, "
            "covers_until,"
            " revoked_on, reversed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            (coop, seq, cid, member_id, billed_on.isoformat(), fee, start.isoformat(), end.isoformat()),
        )

    def _pay(self, tx: Tx, coop: str, cid: str, cents: int) -> None:
        rows = tx.execute(
            "SELECT billed_cents, paid_cents FROM certifications WHERE coop = ? AND certification_id = ?", (coop, cid)
        )
        assert rows, f"payment for a certification not projected: {coop} {cid}"
        billed, paid = rows[0]
        assert 0 <= paid + cents <= billed, f"certification {coop} {cid}: paid {paid + cents} outside 0..{billed}"
        tx.execute_one(
            "UPDATE certifications SET paid_cents = ? WHERE coop = ? AND certification_id = ?", (paid + cents, coop, cid)
        )


# ---------------------------------------------------------------- reading


def _row(coop: str, row: tuple[Any, ...]) -> dict[str, Any]:
    cid, member_id, granted, expires, revoked, reason, renewals, billed, paid = row
    if not (granted < expires and 0 <= paid <= billed):
        raise IntegrityViolation(f"{coop} certification {cid}: {row}")
    ends = min(expires, revoked) if revoked else expires
    return {
        "coop": coop,
        "certification_id": cid,
        "member_id": member_id,
        "granted_on": granted,
        "expires_on": expires,  # first day no longer valid
        "valid_until": (date.fromisoformat(expires) - timedelta(days=1)).isoformat(),  # last day valid
        "revoked_on": revoked,
        "revocation_reason": reason,
        "ends_on": ends,
        "renewals": int(renewals),
        "billed_cents": int(billed),
        "paid_cents": int(paid),
        "due_cents": int(billed - paid),
    }


def certified_on(db: Database, coop: str, day: date) -> list[dict[str, Any]]:
    """The members certified on `day`, with the certification that covers them."""
    d = day.isoformat()
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT {_COLUMNS} FROM certifications WHERE coop = ? AND granted_on <= ? AND ? < expires_on"  # noqa: S608
            " AND (revoked_on IS NULL OR ? < revoked_on) ORDER BY member_id",
            (coop, d, d, d),
        )
    result = [_row(coop, r) for r in rows]
    members = [r["member_id"] for r in result]
    if len(members) != len(set(members)):
        raise IntegrityViolation(f"{coop}: a member holds two certifications on {day}: {members}")
    return result


def expiring_between(db: Database, coop: str, first: date, last: date) -> list[dict[str, Any]]:
    """Certifications not revoked whose last valid day falls in [first, last]: renewal reminders."""
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT {_COLUMNS} FROM certifications WHERE coop = ? AND revoked_on IS NULL"  # noqa: S608
            " AND expires_on > ? AND expires_on <= ? ORDER BY expires_on, member_id",
            (coop, first.isoformat(), (last + timedelta(days=1)).isoformat()),
        )
    return [_row(coop, r) for r in rows]


def deferred_fees(db: Database, coop: str, as_of: date) -> dict[str, Any]:
    """Part of each certification fee that pays for days after `as_of`, by effective dates.

    A fee pays for the days it covers (the grant's or renewal's validity); the part after
    `as_of` is fee × days covered after it ÷ days covered, rounded down to the cent (the
    rounding stays in the year of `as_of`). A revocation on or before `as_of` ends the
    service: nothing of that fee is deferred past it. Fees billed after `as_of`, or reversed
    on or before it, are left out. This is the 487 cut-off the year-end closing posts.
    """
    d = as_of.isoformat()
    with db.read() as tx:
        rows = tx.execute(
            "SELECT certification_id, member_id, billed_on, fee_cents, covers_from, covers_until, revoked_on FROM "
            "certification_fees"
            " WHERE coop = ? AND billed_on <= ? AND (reversed_on IS NULL OR reversed_on > ?) ORDER BY seq",
            (coop, d, d),
        )
    fees = []
    for cid, member_id, billed_on, fee, start, until, revoked in rows:
        covers_from, covers_until = date.fromisoformat(start), date.fromisoformat(until)
        service_ends = min(covers_until, date.fromisoformat(revoked)) if revoked and revoked <= d else covers_until
        days_after = max(0, (service_ends - max(covers_from, as_of + timedelta(days=1))).days)
        deferred = int(fee) * days_after // (covers_until - covers_from).days
        assert 0 <= deferred <= fee
        if deferred:
            fees.append(
                {
                    "certification_id": cid,
                    "member_id": member_id,
                    "billed_on": billed_on,
                    "fee_cents": int(fee),
                    "covers_from": start,
                    "covers_until": until,
                    "days_after": days_after,
                    "deferred_cents": deferred,
                }
            )
    return {"coop": coop, "as_of": d, "deferred_cents": sum(f["deferred_cents"] for f in fees), "fees": fees}
