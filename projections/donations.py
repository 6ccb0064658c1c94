"""Read model of donations and crowdfunding: the gifts (gross, platform fee, net), each donor's
gifts per calendar year for the tax receipts, and the dedicated funds of earmarked gifts as of
any date (from dated movements, reversals included as negated rows on their own date)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from domain.corrections import EntryReversed
from domain.donations import NATURE, CrowdfundingPayoutReceived, DonationReceived, EarmarkedDonationUsed
from domain.donations_carry import EarmarkedGiftCarried
from domain.errors import IntegrityViolation
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000
GIFT_KINDS = ("DonationReceived", "CrowdfundingPayoutReceived")


class DonationsProjection(Projection):
    name = "donations"
    tables = ("donation_gifts", "donation_lines", "donation_fund_moves")
    identity_columns = (("donation_lines", "donor_id", ("donor_name", "donor_address")),)
    handlers = {
        DonationReceived: "donation",
        CrowdfundingPayoutReceived: "payout",
        EarmarkedDonationUsed: "used",
        EarmarkedGiftCarried: "carried",
        EntryReversed: "reversed",
    }

    def donation(self, tx: Tx, e: DonationReceived, seq: int) -> None:
        self._gift(
            tx, e.coop, e.donation_id, "donation", e.purpose, None, None, e.effective_date, e.amount_cents, 0, e.journal_number
        )
        self._lines(
            tx,
            e.coop,
            seq,
            e.donation_id,
            e.effective_date,
            e.method,
            [(e.donor_id, e.donor_name, e.donor_kind, e.donor_address, e.amount_cents)],
        )
        if e.purpose is not None:
            self._move(tx, e.coop, seq, e.donation_id, e.purpose, e.effective_date, e.kind, e.amount_cents, 0)

    def payout(self, tx: Tx, e: CrowdfundingPayoutReceived, seq: int) -> None:
        self._gift(
            tx,
            e.coop,
            e.payout_id,
            "crowdfunding",
            e.purpose,
            e.platform,
            e.campaign,
            e.effective_date,
            e.gross_cents,
            e.fee_cents,
            e.journal_number,
        )
        lines = [(b["donor_id"], b["donor_name"], b["donor_kind"], b["donor_address"], b["amount_cents"]) for b in e.backers]
        if e.anonymous_cents:
            lines.append((None, None, None, None, e.anonymous_cents))
        self._lines(tx, e.coop, seq, e.payout_id, e.effective_date, "platform", lines)
        if e.purpose is not None:
            self._move(tx, e.coop, seq, e.payout_id, e.purpose, e.effective_date, e.kind, e.gross_cents, e.fee_cents)

    def used(self, tx: Tx, e: EarmarkedDonationUsed, seq: int) -> None:
        self._move(tx, e.coop, seq, e.donation_id, e.purpose, e.effective_date, e.kind, 0, e.amount_cents)

    def carried(self, tx: Tx, e: EarmarkedGiftCarried, seq: int) -> None:
        """A founder's earmarked gift carried by a federation: listed among the gifts (as the founder
        received it, numbered by the opening entry that holds its money) and dedicated from the
        federation date for what was unspent, but no donation lines: the founder received it and
        issues its receipts, so the federation's yearly donor totals stay its journal's."""
        self._gift(
            tx,
            e.coop,
            e.gift_id,
            e.source,
            e.purpose,
            e.platform,
            e.campaign,
            e.received_on,
            e.gross_cents,
            e.fee_cents,
            e.opening_journal_number,
        )
        self._move(tx, e.coop, seq, e.gift_id, e.purpose, e.effective_date, e.kind, e.unspent_cents, 0)

    def reversed(self, tx: Tx, e: EntryReversed, seq: int) -> None:
        effect, kind = e.reversed_effect, f"EntryReversed:{e.reversed_kind}"
        if e.reversed_kind == "EarmarkedDonationUsed":
            self._move(tx, e.coop, seq, effect["gift_id"], effect["purpose"], e.effective_date, kind, 0, -effect["amount_cents"])
        if e.reversed_kind not in GIFT_KINDS:
            return
        gift_id = effect["gift_id"]
        tx.execute_one(
            "UPDATE donation_gifts SET reversed_on = ? WHERE coop = ? AND gift_id = ? AND reversed_on IS NULL",
            (e.effective_date.isoformat(), e.coop, gift_id),
        )
        # A gift is reversed at most once and its id never reused: its lines are the original ones.
        rows = tx.execute(
            "SELECT donor_id, donor_name, donor_kind, donor_address, method, amount_cents FROM donation_lines"
            " WHERE coop = ? AND gift_id = ? ORDER BY seq, line",
            (e.coop, gift_id),
        )
        self._lines(
            tx,
            e.coop,
            seq,
            gift_id,
            e.effective_date,
            rows[0][4] if rows else "transfer",
            [(d, n, k, a, -amount) for d, n, k, a, _m, amount in rows],
        )
        if effect["purpose"] is not None:
            self._move(
                tx,
                e.coop,
                seq,
                gift_id,
                effect["purpose"],
                e.effective_date,
                kind,
                -effect["gross_cents"],
                -effect.get("fee_cents", 0),
            )

    def _gift(
        self,
        tx: Tx,
        coop: str,
        gift_id: str,
        source: str,
        purpose: str | None,
        platform: str | None,
        campaign: str | None,
        day: date,
        gross: int,
        fee: int,
        number: int,
    ) -> None:
        tx.execute(
            "INSERT INTO donation_gifts (coop, gift_id, source, purpose, platform, campaign, received_on, gross_cents,"
            " fee_cents, journal_number, reversed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (coop, gift_id, source, purpose, platform, campaign, day.isoformat(), gross, fee, number),
        )

    def _lines(self, tx: Tx, coop: str, seq: int, gift_id: str, day: date, method: str, lines: list[tuple[Any, ...]]) -> None:
        tx.executemany(
            "INSERT INTO donation_lines (coop, seq, line, gift_id, donor_id, donor_name, donor_kind, donor_address, method,"
            " donated_on, amount_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(coop, seq, i, gift_id, *line[:4], method, day.isoformat(), line[4]) for i, line in enumerate(lines)],
        )

    def _move(
        self, tx: Tx, coop: str, seq: int, gift_id: str, purpose: str, day: date, kind: str, dedicated: int, used: int
    ) -> None:
        tx.execute(
            "INSERT INTO donation_fund_moves (coop, seq, gift_id, purpose, effective_date, kind, dedicated_cents, used_cents)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (coop, seq, gift_id, purpose, day.isoformat(), kind, dedicated, used),
        )


# ---------------------------------------------------------------- reading


def donor_receipts(db: Database, coop: str, year: int, *, after: str = "", limit: int = 100) -> dict[str, Any]:
    """The calendar year's gifts per donor, for the tax receipts (reçus fiscaux): donor, and each
    gift's date, amount and nature (numéraire), by donor_id after `after`. Totals cover the WHOLE
    year (every donor, plus anonymous backers, reversals counted on their own date like the
    journal), so `total_cents` equals the year's gift income in the journal."""
    limit = max(1, min(limit, MAX_PAGE))
    first, last = date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat()
    with db.read() as tx:
        named, anonymous = tx.execute(
            "SELECT COALESCE(SUM(CASE WHEN donor_id IS NOT NULL THEN amount_cents ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN donor_id IS NULL THEN amount_cents ELSE 0 END), 0)"
            " FROM donation_lines WHERE coop = ? AND donated_on BETWEEN ? AND ?",
            (coop, first, last),
        )[0]
        donors = [
            d
            for (d,) in tx.execute(
                "SELECT DISTINCT donor_id FROM donation_lines WHERE coop = ? AND donated_on BETWEEN ? AND ?"
                " AND donor_id IS NOT NULL AND donor_id > ? ORDER BY donor_id LIMIT ?",
                (coop, first, last, after, limit),
            )
        ]
        rows = (
            tx.execute(
                "SELECT donor_id, donor_name, donor_kind, donor_address, gift_id, method, donated_on, amount_cents, seq, line"
                " FROM donation_lines WHERE coop = ? AND donated_on BETWEEN ? AND ?"
                f" AND donor_id IN ({', '.join('?' for _ in donors)})"
                " ORDER BY donor_id, donated_on, seq, line",
                (coop, first, last, *donors),
            )
            if donors
            else []
        )
    by_donor: dict[str, dict[str, Any]] = {}
    gifts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for donor_id, name, kind, address, gift_id, method, day, amount, _seq, _line in rows:
        # The latest name and kind, and the latest address given (a later gift may leave it out).
        known = by_donor.get(donor_id, {}).get("donor_address")
        by_donor[donor_id] = {"donor_id": donor_id, "donor_name": name, "donor_kind": kind, "donor_address": address or known}
        gifts[donor_id].append({"gift_id": gift_id, "date": day, "amount_cents": int(amount), "nature": NATURE, "method": method})
    result = []
    for donor_id in donors:
        total = sum(g["amount_cents"] for g in gifts[donor_id])
        result.append(
            {**by_donor[donor_id], "gifts": gifts[donor_id], "total_cents": total, "receipt": total > 0}
        )  # a year whose gifts were all reversed gets no receipt
    return {
        "coop": coop,
        "year": year,
        "donors": result,
        "next_after": donors[-1] if len(donors) == limit else None,
        "named_cents": int(named),
        "anonymous_cents": int(anonymous),
        "total_cents": int(named) + int(anonymous),
    }


def dedicated_funds(db: Database, coop: str, *, as_of: date | None = None, after: str = "", limit: int = 100) -> dict[str, Any]:
    """Earmarked gifts as of a date (inclusive), by gift_id after `after`: dedicated, used and
    unspent (the fonds dédiés: 196 in the association plan, 4877 in the general plan), and the
    unspent total per purpose (every purpose, not only this page's)."""
    limit = max(1, min(limit, MAX_PAGE))
    day = (as_of or date.max).isoformat()
    with db.read() as tx:
        rows = tx.execute(
            "SELECT m.gift_id, m.purpose, g.source, MIN(m.effective_date), SUM(m.dedicated_cents), SUM(m.used_cents)"
            " FROM donation_fund_moves m JOIN donation_gifts g ON g.coop = m.coop AND g.gift_id = m.gift_id"
            " WHERE m.coop = ? AND m.effective_date <= ? AND m.gift_id > ?"
            " GROUP BY m.gift_id, m.purpose, g.source ORDER BY m.gift_id LIMIT ?",
            (coop, day, after, limit),
        )
        purposes = tx.execute(
            "SELECT purpose, SUM(dedicated_cents), SUM(used_cents) FROM donation_fund_moves WHERE coop = ? AND "
            "effective_date <= ?"
            " GROUP BY purpose ORDER BY purpose LIMIT ?",
            (coop, day, MAX_PAGE),
        )
    gifts = []
    for gift_id, purpose, source, since, dedicated, used in rows:
        dedicated, used = int(dedicated), int(used)
        if not 0 <= used <= dedicated:
            raise IntegrityViolation(f"{coop}: gift {gift_id} used {used} outside 0..{dedicated}")
        gifts.append(
            {
                "gift_id": gift_id,
                "purpose": purpose,
                "source": source,
                "received_on": since,
                "dedicated_cents": dedicated,
                "used_cents": used,
                "unspent_cents": dedicated - used,
            }
        )
    by_purpose = [
        {"purpose": p, "dedicated_cents": int(d), "used_cents": int(u), "unspent_cents": int(d) - int(u)} for p, d, u in purposes
    ]
    return {
        "coop": coop,
        "as_of": as_of.isoformat() if as_of else None,
        "gifts": gifts,
        "by_purpose": by_purpose,
        "unspent_cents": sum(p["unspent_cents"] for p in by_purpose),
        "next_after": gifts[-1]["gift_id"] if len(gifts) == limit else None,
    }


def gifts_received(
    db: Database, coop: str, *, source: str | None = None, after: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    """Gifts by gift_id after `after` (only donations or only crowdfunding payouts with `source`):
    gross, the platform's fee, net received, purpose; no donor data (see donor_receipts). A gift a
    federation carried from a founder (EarmarkedGiftCarried) is listed as the founder received it,
    with the journal number of the federation's opening entry that holds its unspent part."""
    limit = max(1, min(limit, MAX_PAGE))
    where, params = ("", []) if source is None else (" AND source = ?", [source])
    with db.read() as tx:
        rows = tx.execute(
            "SELECT gift_id, source, purpose, platform, campaign, received_on, gross_cents, fee_cents, journal_number, "
            "reversed_on"
            f" FROM donation_gifts WHERE coop = ? AND gift_id > ?{where} ORDER BY gift_id LIMIT ?",
            (coop, after, *params, limit),
        )
    return [
        {
            "gift_id": g,
            "source": s,
            "purpose": p,
            "platform": pl,
            "campaign": c,
            "received_on": d,
            "gross_cents": int(gross),
            "fee_cents": int(fee),
            "net_cents": int(gross) - int(fee),
            "journal_number": int(n),
            "reversed_on": r,
        }
        for g, s, p, pl, c, d, gross, fee, n, r in rows
    ]


def donations_by_month(tx: Tx, coop: str, *, from_month: str = "0000-00", to_month: str = "9999-99") -> list[dict[str, Any]]:
    """Gifts received per month ("YYYY-MM", inclusive bounds), net of reversals on their own date:
    gross and count of gift lines. For the observatory's indicators."""
    rows = tx.execute(
        "SELECT SUBSTR(donated_on, 1, 7) AS month, SUM(amount_cents), COUNT(*) FROM donation_lines"
        " WHERE coop = ? AND SUBSTR(donated_on, 1, 7) BETWEEN ? AND ? GROUP BY SUBSTR(donated_on, 1, 7) ORDER BY month",
        (coop, from_month, to_month),
    )
    return [{"month": m, "gross_cents": int(total), "lines": int(n)} for m, total, n in rows]
