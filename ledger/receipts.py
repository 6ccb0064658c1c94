"""Command receipts as the write path reads and writes them: one per (cooperative, key).

A receipt is saved in the same transaction as its command's events (ledger/app.py). Reading them
back here is plain SQL, one query for a whole batch, with each receipt's position in the log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from ledger.app import CommandReceipt, LedgerApp, receipt_id
from ledger.db import Database

# Receipt ids per lookup query: under SQLite's bound on parameters, one query for a usual batch.
RECEIPT_QUERY_IDS = 1000
RECEIPT_TOPIC = get_topic(CommandReceipt)


@dataclass(frozen=True)
class StoredReceipt:
    fingerprint: str
    result: dict[str, Any]
    position: int  # of the receipt in the notification log


def new_receipt(slug: str, key: str, command: str, fingerprint: str, result: dict[str, Any]) -> Any:
    """The Created event of a new receipt, to save with the command's events. Built directly, as
    `CommandReceipt._create` would build it (tests/ledger/test_receipts.py compares them): the
    aggregate itself is never used, and creating it cost a tenth of a batch's time (cProfile)."""
    return CommandReceipt.Created(
        originator_id=receipt_id(slug, key),
        originator_version=1,
        timestamp=CommandReceipt.Created.create_timestamp(),
        originator_topic=RECEIPT_TOPIC,
        coop=slug,
        key=key,
        command=command,
        fingerprint=fingerprint,
        result=result,
    )


def stored_receipts(app: LedgerApp, db: Database, keys: set[tuple[str, str]]) -> dict[tuple[str, str], StoredReceipt]:
    """The receipts stored under these (cooperative, key) pairs, with their log positions."""
    table = app.recorder.events_table_name  # type: ignore[attr-defined]
    by_id = {receipt_id(slug, key): (slug, key) for slug, key in keys}
    ids = list(by_id)
    found: dict[tuple[str, str], StoredReceipt] = {}
    sqlite = db.dialect == "sqlite"
    with db.read() as tx:
        for start in range(0, len(ids), RECEIPT_QUERY_IDS):
            chunk = ids[start : start + RECEIPT_QUERY_IDS]
            if sqlite:  # stored as hex text; the rowid is the notification id
                sql = (
                    f"SELECT originator_id, topic, state, rowid FROM {table} WHERE originator_version = 1"  # noqa: S608
                    f" AND originator_id IN ({', '.join('?' for _ in chunk)})"
                )
                params: list[Any] = [i.hex for i in chunk]
            else:
                sql = (
                    f"SELECT originator_id, topic, state, notification_id FROM {table}"  # noqa: S608
                    " WHERE originator_version = 1 AND originator_id = ANY(%b)"
                )  # %b: the ids' array in binary (ledger/chain.py says why): 0.3 ms, not 1.4, per 1,000
                params = [chunk]
            for originator_id, topic, state, position in tx.execute(sql, params):
                uid = originator_id if isinstance(originator_id, uuid.UUID) else uuid.UUID(originator_id)
                stored = StoredEvent(originator_id=uid, originator_version=1, topic=topic, state=bytes(state))
                event = app.mapper.to_domain_event(stored)
                found[by_id[uid]] = StoredReceipt(event.fingerprint, event.result, int(position))
    return found
