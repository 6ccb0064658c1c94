"""Read model of tax receipts (reçus fiscaux, domain/tax_receipts.py): each receipt as issued with
the gifts it covers, which receipts were replaced or cancelled, which standing receipts cover a
gift reversed since (flagged for correction), and the declarations of eligibility. A receipt's PDF
is rendered from its row (`receipt_pdf`, ledger/receipt_pdf.py)."""

from __future__ import annotations

from typing import Any

import orjson

from domain.corrections import EntryReversed
from domain.tax_receipts import ReceiptEligibilityDeclared, TaxReceiptCancelled, TaxReceiptIssued
from ledger.db import Database, Tx
from ledger.receipt_pdf import render_tax_receipt
from projections.base import Projection

MAX_PAGE = 1000
GIFT_KINDS = ("DonationReceived", "CrowdfundingPayoutReceived")
_COLUMNS = (
    "receipt_number, year, sequence, donor_id, donor_name, donor_address, donor_kind, article, total_cents, issued_on,"
    " issuer, corrects, replaced_by, cancelled_on"
)


class TaxReceiptsProjection(Projection):
    name = "tax_receipts"
    tables = ("tax_receipts", "tax_receipt_gifts", "tax_receipt_eligibility")
    identity_columns = (("tax_receipts", "donor_id", ("donor_name", "donor_address")),)
    handlers = {
        ReceiptEligibilityDeclared: "declared",
        TaxReceiptIssued: "issued",
        TaxReceiptCancelled: "cancelled",
        EntryReversed: "reversed",
    }

    def declared(self, tx: Tx, e: ReceiptEligibilityDeclared, seq: int) -> None:
        tx.execute(
            "INSERT INTO tax_receipt_eligibility (coop, seq, effective_date, eligible, basis, mission, address, place,"
            " reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.coop, seq, e.effective_date.isoformat(), int(e.eligible), e.basis, e.mission, e.address, e.place, e.reference),
        )

    def issued(self, tx: Tx, e: TaxReceiptIssued, seq: int) -> None:
        tx.execute(
            f"INSERT INTO tax_receipts (coop, {_COLUMNS}, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                e.coop,
                e.receipt_number,
                e.year,
                e.sequence,
                e.donor_id,
                e.donor_name,
                e.donor_address,
                e.donor_kind,
                e.article,
                e.total_cents,
                e.effective_date.isoformat(),
                orjson.dumps(e.issuer).decode(),
                e.corrects,
                None,
                None,
                seq,
            ),
        )
        tx.executemany(
            "INSERT INTO tax_receipt_gifts (coop, receipt_number, line, gift_id, received_on, amount_cents, method, form,"
            " reversed_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (e.coop, e.receipt_number, i, g["gift_id"], g["received_on"], g["amount_cents"], g["method"], g["form"], None)
                for i, g in enumerate(e.gifts)
            ],
        )
        if e.corrects is not None:
            tx.execute_one(
                "UPDATE tax_receipts SET replaced_by = ? WHERE coop = ? AND receipt_number = ?",
                (e.receipt_number, e.coop, e.corrects),
            )

    def cancelled(self, tx: Tx, e: TaxReceiptCancelled, seq: int) -> None:
        tx.execute_one(
            "UPDATE tax_receipts SET cancelled_on = ? WHERE coop = ? AND receipt_number = ?",
            (e.effective_date.isoformat(), e.coop, e.receipt_number),
        )

    def reversed(self, tx: Tx, e: EntryReversed, seq: int) -> None:
        """A gift reversed: every receipt line naming it says when (a standing receipt is then flagged)."""
        if e.reversed_kind in GIFT_KINDS:
            tx.execute(
                "UPDATE tax_receipt_gifts SET reversed_on = ? WHERE coop = ? AND gift_id = ? AND reversed_on IS NULL",
                (e.effective_date.isoformat(), e.coop, e.reversed_effect["gift_id"]),
            )


# ---------------------------------------------------------------- reading


def _status(replaced_by: str | None, cancelled_on: str | None) -> str:
    return "replaced" if replaced_by else "cancelled" if cancelled_on else "issued"


def _receipt(coop: str, row: tuple[Any, ...], gifts: list[dict[str, Any]]) -> dict[str, Any]:
    number, year, sequence, donor_id, name, address, kind, article, total, issued_on, issuer, corrects, replaced, cancelled = row
    return {
        "coop": coop,
        "receipt_number": number,
        "year": int(year),
        "sequence": int(sequence),
        "status": _status(replaced, cancelled),
        "donor_id": donor_id,
        "donor_name": name,
        "donor_address": address,
        "donor_kind": kind,
        "article": article,
        "total_cents": int(total),
        "issued_on": issued_on,
        "corrects": corrects,
        "replaced_by": replaced,
        "cancelled_on": cancelled,
        "issuer": orjson.loads(issuer),
        "gifts": gifts,
    }


def _gifts(tx: Tx, coop: str, numbers: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {n: [] for n in numbers}
    if not numbers:
        return found
    rows = tx.execute(
        "SELECT receipt_number, gift_id, received_on, amount_cents, method, form, reversed_on FROM tax_receipt_gifts"
        f" WHERE coop = ? AND receipt_number IN ({', '.join('?' for _ in numbers)}) ORDER BY receipt_number, line",  # noqa: S608
        (coop, *numbers),
    )
    for number, gift_id, received_on, amount, method, form, reversed_on in rows:
        found[number].append(
            {
                "gift_id": gift_id,
                "received_on": received_on,
                "amount_cents": int(amount),
                "method": method,
                "form": form,
                "reversed_on": reversed_on,
            }
        )
    return found


def tax_receipts(db: Database, coop: str, year: int, *, after: int = 0, limit: int = 100) -> dict[str, Any]:
    """A gift year's receipts in number order after sequence `after`, each with its gifts and status
    (issued, replaced, cancelled); `flagged`: every gift of a standing receipt of that year reversed
    since it was issued (the whole year, not only this page); `issued_cents`: what the year's
    standing receipts attest in all."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT {_COLUMNS} FROM tax_receipts WHERE coop = ? AND year = ? AND sequence > ?"  # noqa: S608
            " ORDER BY sequence LIMIT ?",
            (coop, year, after, limit),
        )
        gifts = _gifts(tx, coop, [r[0] for r in rows])
        flagged = tx.execute(
            "SELECT g.receipt_number, g.gift_id, g.reversed_on FROM tax_receipt_gifts g JOIN tax_receipts r"
            " ON r.coop = g.coop AND r.receipt_number = g.receipt_number"
            " WHERE g.coop = ? AND r.year = ? AND g.reversed_on IS NOT NULL AND r.replaced_by IS NULL"
            " AND r.cancelled_on IS NULL ORDER BY r.sequence, g.line LIMIT ?",
            (coop, year, MAX_PAGE),
        )
        ((issued, count),) = tx.execute(
            "SELECT COALESCE(SUM(total_cents), 0), COUNT(*) FROM tax_receipts WHERE coop = ? AND year = ?"
            " AND replaced_by IS NULL AND cancelled_on IS NULL",
            (coop, year),
        )
    receipts = [_receipt(coop, row, gifts[row[0]]) for row in rows]
    return {
        "coop": coop,
        "year": year,
        "receipts": receipts,
        "flagged": [{"receipt_number": n, "gift_id": g, "reversed_on": d} for n, g, d in flagged],
        "standing": int(count),
        "issued_cents": int(issued),
        "next_after": receipts[-1]["sequence"] if len(receipts) == limit else None,
    }


def tax_receipt(db: Database, coop: str, number: str) -> dict[str, Any] | None:
    """One receipt as issued (the donor as the store reads them now), with its gifts; None if unknown."""
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT {_COLUMNS} FROM tax_receipts WHERE coop = ? AND receipt_number = ?",  # noqa: S608
            (coop, number),
        )
        if not rows:
            return None
        return _receipt(coop, rows[0], _gifts(tx, coop, [number])[number])


def receipt_pdf(db: Database, coop: str, number: str) -> bytes | None:
    """The receipt's PDF (the content of Cerfa n° 11580), or None if there is no such receipt."""
    receipt = tax_receipt(db, coop, number)
    return render_tax_receipt(receipt) if receipt is not None else None
