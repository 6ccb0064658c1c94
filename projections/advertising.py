"""Read model of advertising: contracts, invoices per period (invoiced, paid, due) and dated
movements for revenue by month (reversals as negated rows on their own date, as in the journal,
so a month's invoiced revenue equals the credits of the advertising income account that month)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.advertising import AdvertisingContractEnded, AdvertisingContractSigned, AdvertisingInvoiced, AdvertisingInvoicePaid
from domain.advertising_carry import AdvertisingContractCarried
from domain.corrections import EntryReversed
from domain.errors import IntegrityViolation
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000


class AdvertisingProjection(Projection):
    name = "advertising"
    tables = ("advertising_contracts", "advertising_invoices", "advertising_moves")
    identity_columns = (("advertising_contracts", "advertiser_id", ("advertiser_name",)),)
    handlers = {
        AdvertisingContractSigned: "signed",
        AdvertisingContractEnded: "ended",
        AdvertisingInvoiced: "invoiced",
        AdvertisingInvoicePaid: "paid",
        AdvertisingContractCarried: "carried",
        EntryReversed: "reversed",
    }

    def signed(self, tx: Tx, e: AdvertisingContractSigned, _seq: int) -> None:
        tx.execute(
            "INSERT INTO advertising_contracts (coop, contract_id, advertiser_id, advertiser_name, advertiser_kind, placement,"
            " period_kind, price_cents, starts_on, ends_on, signed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.coop,
                e.contract_id,
                e.advertiser_id,
                e.advertiser_name,
                e.advertiser_kind,
                e.placement,
                e.period_kind,
                e.price_cents,
                e.starts_on.isoformat(),
                e.ends_on.isoformat(),
                e.effective_date.isoformat(),
            ),
        )

    def carried(self, tx: Tx, e: AdvertisingContractCarried, _seq: int) -> None:
        """A founder's contract carried by a federation, with its invoices as they stood: no move,
        their revenue and cash are the founder's (only the federation's own invoices and the
        payments it receives count in its revenue by month)."""
        tx.execute(
            "INSERT INTO advertising_contracts (coop, contract_id, advertiser_id, advertiser_name, advertiser_kind, placement,"
            " period_kind, price_cents, starts_on, ends_on, signed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.coop,
                e.contract_id,
                e.advertiser_id,
                e.advertiser_name,
                e.advertiser_kind,
                e.placement,
                e.period_kind,
                e.price_cents,
                e.starts_on.isoformat(),
                e.ends_on.isoformat(),
                e.signed_on.isoformat(),
            ),
        )
        tx.executemany(
            "INSERT INTO advertising_invoices (coop, contract_id, period, advertiser_id, amount_cents, paid_cents, invoiced_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (e.coop, e.contract_id, i["period"], e.advertiser_id, i["amount_cents"], i["paid_cents"], i["invoiced_on"])
                for i in e.invoices
            ],
        )

    def ended(self, tx: Tx, e: AdvertisingContractEnded, _seq: int) -> None:
        tx.execute_one(
            "UPDATE advertising_contracts SET ends_on = ? WHERE coop = ? AND contract_id = ?",
            (e.ends_on.isoformat(), e.coop, e.contract_id),
        )

    def invoiced(self, tx: Tx, e: AdvertisingInvoiced, seq: int) -> None:
        self._invoiced(tx, e.coop, seq, e.effect(), +1, e.effective_date)

    def paid(self, tx: Tx, e: AdvertisingInvoicePaid, seq: int) -> None:
        self._paid(tx, e.coop, seq, e.effect(), +1, e.effective_date)

    def reversed(self, tx: Tx, e: EntryReversed, seq: int) -> None:
        if e.reversed_kind == "AdvertisingInvoiced":
            self._invoiced(tx, e.coop, seq, e.reversed_effect, -1, e.effective_date)
        elif e.reversed_kind == "AdvertisingInvoicePaid":
            self._paid(tx, e.coop, seq, e.reversed_effect, -1, e.effective_date)

    def _invoiced(self, tx: Tx, coop: str, seq: int, effect: dict[str, Any], sign: int, day: date) -> None:
        if sign > 0:
            tx.execute(
                "INSERT INTO advertising_invoices (coop, contract_id, period, advertiser_id, amount_cents, paid_cents, "
                "invoiced_on)"
                " VALUES (?, ?, ?, ?, ?, 0, ?)",
                (coop, effect["contract_id"], effect["period"], effect["advertiser_id"], effect["amount_cents"], day.isoformat()),
            )
        else:  # only ever reversed while unpaid: the period may be invoiced again
            tx.execute_one(
                "DELETE FROM advertising_invoices WHERE coop = ? AND contract_id = ? AND period = ? AND paid_cents = 0",
                (coop, effect["contract_id"], effect["period"]),
            )
        self._move(tx, coop, seq, effect, day, sign * effect["amount_cents"], 0)

    def _paid(self, tx: Tx, coop: str, seq: int, effect: dict[str, Any], sign: int, day: date) -> None:
        tx.execute_one(
            "UPDATE advertising_invoices SET paid_cents = paid_cents + ? WHERE coop = ? AND contract_id = ? AND period = ?",
            (sign * effect["amount_cents"], coop, effect["contract_id"], effect["period"]),
        )
        amount, paid = tx.execute(
            "SELECT amount_cents, paid_cents FROM advertising_invoices WHERE coop = ? AND contract_id = ? AND period = ?",
            (coop, effect["contract_id"], effect["period"]),
        )[0]
        assert 0 <= paid <= amount, (
            f"advertising invoice {coop}/{effect['contract_id']}/{effect['period']} paid outside 0..invoiced"
        )
        self._move(tx, coop, seq, effect, day, 0, sign * effect["amount_cents"])

    def _move(self, tx: Tx, coop: str, seq: int, effect: dict[str, Any], day: date, invoiced: int, paid: int) -> None:
        tx.execute(
            "INSERT INTO advertising_moves (coop, seq, contract_id, period, advertiser_id, effective_date, invoiced_cents, "
            "paid_cents)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (coop, seq, effect["contract_id"], effect["period"], effect["advertiser_id"], day.isoformat(), invoiced, paid),
        )


# ---------------------------------------------------------------- reading


def advertising_revenue_by_month(
    tx: Tx, coop: str, *, from_month: str = "0000-00", to_month: str = "9999-99"
) -> list[dict[str, Any]]:
    """Advertising revenue per accounting month ("YYYY-MM", inclusive bounds, by the date of the
    invoice; a reversed invoice counts negatively in the month of its reversal, as in the journal):
    invoiced (the income account's net credits), cash received, and the number of advertisers
    invoiced. Takes an open transaction so the observatory can read it with its other indicators."""
    rows = tx.execute(
        "SELECT SUBSTR(effective_date, 1, 7) AS month, SUM(invoiced_cents), SUM(paid_cents),"
        " COUNT(DISTINCT CASE WHEN invoiced_cents > 0 THEN advertiser_id END)"
        " FROM advertising_moves WHERE coop = ? AND SUBSTR(effective_date, 1, 7) BETWEEN ? AND ?"
        " GROUP BY SUBSTR(effective_date, 1, 7) ORDER BY month",
        (coop, from_month, to_month),
    )
    return [
        {"month": m, "invoiced_cents": int(inv), "received_cents": int(paid), "advertisers": int(n)} for m, inv, paid, n in rows
    ]


def advertising_contracts(db: Database, coop: str, *, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Contracts by contract_id after `after`, with their invoices so far: invoiced, paid, due."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.read() as tx:
        rows = tx.execute(
            "SELECT c.contract_id, c.advertiser_id, c.advertiser_name, c.advertiser_kind, c.placement, c.period_kind, "
            "c.price_cents,"
            " c.starts_on, c.ends_on, c.signed_on, COUNT(i.period), COALESCE(SUM(i.amount_cents), 0), "
            "COALESCE(SUM(i.paid_cents), 0)"
            " FROM advertising_contracts c LEFT JOIN advertising_invoices i ON i.coop = c.coop AND i.contract_id = c.contract_id"
            " WHERE c.coop = ? AND c.contract_id > ? GROUP BY c.contract_id, c.advertiser_id, c.advertiser_name,"
            " c.advertiser_kind, c.placement, c.period_kind, c.price_cents, c.starts_on, c.ends_on, c.signed_on"
            " ORDER BY c.contract_id LIMIT ?",
            (coop, after, limit),
        )
    result = []
    for (
        contract_id,
        advertiser_id,
        name,
        kind,
        placement,
        period_kind,
        price,
        starts_on,
        ends_on,
        signed_on,
        invoices,
        invoiced,
        paid,
    ) in rows:
        invoiced, paid = int(invoiced), int(paid)
        if not 0 <= paid <= invoiced:
            raise IntegrityViolation(f"{coop}: advertising contract {contract_id} paid {paid} outside 0..{invoiced}")
        result.append(
            {
                "contract_id": contract_id,
                "advertiser_id": advertiser_id,
                "advertiser_name": name,
                "advertiser_kind": kind,
                "placement": placement,
                "period": period_kind,
                "price_cents": int(price),
                "starts_on": starts_on,
                "ends_on": ends_on,
                "signed_on": signed_on,
                "invoices": int(invoices),
                "invoiced_cents": invoiced,
                "paid_cents": paid,
                "due_cents": invoiced - paid,
            }
        )
    return result


def advertising_invoices(db: Database, coop: str, contract_id: str, *, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """A contract's invoices by period after `after`."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.read() as tx:
        rows = tx.execute(
            "SELECT period, advertiser_id, amount_cents, paid_cents, invoiced_on FROM advertising_invoices"
            " WHERE coop = ? AND contract_id = ? AND period > ? ORDER BY period LIMIT ?",
            (coop, contract_id, after, limit),
        )
    return [
        {
            "period": p,
            "advertiser_id": a,
            "amount_cents": int(amount),
            "paid_cents": int(paid),
            "due_cents": int(amount) - int(paid),
            "invoiced_on": d,
        }
        for p, a, amount, paid, d in rows
    ]
