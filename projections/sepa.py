"""Read model of SEPA direct debit (domain/sepa.py): mandates, batches and each item's status
(issued, collected, returned with its reason).

Lists show an IBAN masked (country, check digits, last four characters) to every role that may
read them: a treasurer recognises the account by it, and nobody needs the whole IBAN outside the
file sent to the bank (the pain.008 route, treasurers only), which reads it from the sealed event.
The masked IBAN and the BIC are still the member's: declared identity columns, erased when the
member is forgotten.
"""

from __future__ import annotations

from typing import Any

from domain.corrections import EntryReversed
from domain.sepa import DirectDebitBatchCollected, DirectDebitBatchIssued, DirectDebitReturned, MandateRecorded, MandateRevoked
from domain.sepa_rules import MANDATE_GONE, RETURN_REASONS, mask_iban
from ledger.db import Database, Tx
from projections.base import Projection

MAX_PAGE = 1000


class SepaProjection(Projection):
    name = "sepa"
    tables = ("sepa_mandates", "sepa_batches", "sepa_items")
    handlers = {
        MandateRecorded: "mandate_recorded",
        MandateRevoked: "mandate_revoked",
        DirectDebitBatchIssued: "issued",
        DirectDebitBatchCollected: "collected",
        DirectDebitReturned: "returned",
        EntryReversed: "reversed",
    }
    identity_columns = (("sepa_mandates", "member_id", ("masked_iban", "bic")),)

    def mandate_recorded(self, tx: Tx, e: MandateRecorded, _seq: int) -> None:
        tx.execute(
            "INSERT INTO sepa_mandates (coop, mandate_id, member_id, masked_iban, bic, signed_on, sequence, last_used_on,"
            " revoked_on, revoke_reason) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
            (e.coop, e.mandate_id, e.member_id, mask_iban(e.iban), e.bic, e.signed_on.isoformat(), e.sequence),
        )

    def mandate_revoked(self, tx: Tx, e: MandateRevoked, _seq: int) -> None:
        tx.execute_one(
            "UPDATE sepa_mandates SET revoked_on = ?, revoke_reason = ? WHERE coop = ? AND mandate_id = ?",
            (e.effective_date.isoformat(), e.reason, e.coop, e.mandate_id),
        )

    def issued(self, tx: Tx, e: DirectDebitBatchIssued, _seq: int) -> None:
        tx.execute(
            "INSERT INTO sepa_batches (coop, batch_id, year, collection_date, issued_on, total_cents, collected_on)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL)",
            (e.coop, e.batch_id, e.year, e.collection_date.isoformat(), e.effective_date.isoformat(), e.total_cents),
        )
        for line, item in enumerate(e.items, start=1):
            tx.execute(
                "INSERT INTO sepa_items (coop, end_to_end_id, batch_id, line, member_id, mandate_id, year, amount_cents,"
                " sequence, status, collected_on, returned_on, reason_code)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'issued', NULL, NULL, NULL)",
                (
                    e.coop,
                    item["end_to_end_id"],
                    e.batch_id,
                    line,
                    item["member_id"],
                    item["mandate_id"],
                    item["year"],
                    item["amount_cents"],
                    item["sequence"],
                ),
            )

    def collected(self, tx: Tx, e: DirectDebitBatchCollected, _seq: int) -> None:
        day = e.effective_date.isoformat()
        tx.execute_one("UPDATE sepa_batches SET collected_on = ? WHERE coop = ? AND batch_id = ?", (day, e.coop, e.batch_id))
        tx.execute(
            "UPDATE sepa_items SET status = 'collected', collected_on = ? WHERE coop = ? AND batch_id = ?",
            (day, e.coop, e.batch_id),
        )
        tx.execute(
            "UPDATE sepa_mandates SET sequence = 'recurring', last_used_on = ? WHERE coop = ? AND mandate_id IN"
            " (SELECT mandate_id FROM sepa_items WHERE coop = ? AND batch_id = ?)",
            (day, e.coop, e.coop, e.batch_id),
        )

    def returned(self, tx: Tx, e: DirectDebitReturned, _seq: int) -> None:
        tx.execute_one(
            "UPDATE sepa_items SET status = 'returned', returned_on = ?, reason_code = ? WHERE coop = ? AND end_to_end_id = ?",
            (e.effective_date.isoformat(), e.reason_code, e.coop, e.end_to_end_id),
        )
        if e.reason_code == MANDATE_GONE:  # as MandateRevoked; an earlier revocation stands
            tx.execute(
                "UPDATE sepa_mandates SET revoked_on = ?, revoke_reason = ?"
                " WHERE coop = ? AND mandate_id = ? AND revoked_on IS NULL",
                (e.effective_date.isoformat(), f"retour {e.reason_code}", e.coop, e.mandate_id),
            )

    def reversed(self, tx: Tx, e: EntryReversed, _seq: int) -> None:
        if e.reversed_kind != "DirectDebitReturned":
            return
        tx.execute_one(
            "UPDATE sepa_items SET status = 'collected', returned_on = NULL, reason_code = NULL"
            " WHERE coop = ? AND end_to_end_id = ?",
            (e.coop, e.reversed_effect["end_to_end_id"]),
        )


def mandates(db: Database, coop: str, *, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Mandates by reference after `after`, IBAN masked."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT mandate_id, member_id, masked_iban, bic, signed_on, sequence, last_used_on, revoked_on, revoke_reason"
            " FROM sepa_mandates WHERE coop = ? AND mandate_id > ? ORDER BY mandate_id LIMIT ?",
            (coop, after, max(1, min(limit, MAX_PAGE))),
        )
    keys = ("mandate_id", "member_id", "iban", "bic", "signed_on", "sequence", "last_used_on", "revoked_on", "revoke_reason")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def batches(db: Database, coop: str, *, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Batches by id after `after`, each with its items and their status."""
    with db.read() as tx:
        found = tx.execute(
            "SELECT batch_id, year, collection_date, issued_on, total_cents, collected_on FROM sepa_batches"
            " WHERE coop = ? AND batch_id > ? ORDER BY batch_id LIMIT ?",
            (coop, after, max(1, min(limit, MAX_PAGE))),
        )
        result = []
        for batch_id, year, collection_date, issued_on, total, collected_on in found:
            items = tx.execute(
                "SELECT end_to_end_id, member_id, mandate_id, year, amount_cents, sequence, status, collected_on, returned_on,"
                " reason_code FROM sepa_items WHERE coop = ? AND batch_id = ? ORDER BY line",
                (coop, batch_id),
            )
            result.append(
                {
                    "batch_id": batch_id,
                    "year": int(year),
                    "collection_date": collection_date,
                    "issued_on": issued_on,
                    "total_cents": int(total),
                    "collected_on": collected_on,
                    "items": [_item(row) for row in items],
                }
            )
    return result


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    e2e, member_id, mandate_id, year, amount, sequence, status, collected_on, returned_on, reason = row
    return {
        "end_to_end_id": e2e,
        "member_id": member_id,
        "mandate_id": mandate_id,
        "year": int(year),
        "amount_cents": int(amount),
        "sequence": sequence,
        "status": status,
        "collected_on": collected_on,
        "returned_on": returned_on,
        "reason_code": reason,
        "reason": RETURN_REASONS.get(reason) if reason else None,
    }
