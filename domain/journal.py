"""The journal: entries numbered 1..N per cooperative in recorded order, chained by hashes.

Each entry's hash covers its canonical content and the previous hash, so changing, removing
or reordering any recorded entry changes every hash after it. `verify` recomputes the chain
from the stored events with `entry_hash`.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any

import orjson

from domain.errors import IntegrityViolation

GENESIS_HASH = "0" * 64
# Income (7) and expense (6) accounts: the fiscal-year closing carries their EUR balances to the result.
RESULT_CLASSES = ("6", "7")
# Balance-sheet accounts (capital, fixed assets, stocks, third parties, cash): what a party's
# balance on them says is owed by or to that party (a person may not be forgotten while it is not zero).
BALANCE_SHEET_CLASSES = ("1", "2", "3", "4", "5")


def check_balanced(postings: list[list[Any]], where: str) -> None:
    """Asserts an entry balances per unit and has at least two non-zero postings."""
    if len(postings) < 2:
        raise IntegrityViolation(f"{where}: an entry needs at least two postings, got {len(postings)}")
    totals: dict[str, int] = defaultdict(int)
    for account, _party, unit, amount in postings:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise IntegrityViolation(f"{where}: posting on {account} has amount {amount!r}, not a non-zero integer")
        totals[unit] += amount
    unbalanced = {unit: total for unit, total in totals.items() if total != 0}
    if unbalanced:
        raise IntegrityViolation(f"{where}: entry does not balance per unit: {unbalanced}")


def entry_hash(
    *,
    prev_hash: str,
    coop: str,
    number: int,
    kind: str,
    effective_date: date,
    recorded_at: datetime,
    label: str,
    postings: list[list[Any]],
) -> str:
    content = {
        "coop": coop,
        "number": number,
        "kind": kind,
        "effective_date": effective_date.isoformat(),
        "recorded_at": recorded_at.isoformat(),
        "label": label,
        "postings": postings,
    }
    return hashlib.sha256(prev_hash.encode() + canonical_json(content)).hexdigest()


def canonical_json(content: dict[str, Any]) -> bytes:
    """Keys sorted, no spaces, UTF-8 unescaped: the bytes every entry hash was computed over since
    the first entry (the standard library's `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`). orjson writes the same bytes four times faster (tests/domain/
    test_journal_hash.py compares them over every code point and generated entries); where it
    refuses (an integer beyond 64 bits, a lone surrogate) the standard library writes them."""
    try:
        return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Journal:
    """The write side's memory of the journal: enough to number, chain and reverse entries.

    `versions[n - 1]` is the aggregate version of entry n, so a reversal can fetch the
    original event from the store instead of this object keeping every entry in memory.
    """

    def __init__(self) -> None:
        self.last_number = 0
        self.last_hash = GENESIS_HASH
        self.versions = array("q")
        self.reversed_by: dict[int, int] = {}
        self.reversals: set[int] = set()
        # (number, hash) of the entry seal() just hashed on the write path: append() trusts it
        # instead of hashing the same fields twice. Replayed events are always re-hashed.
        self._sealed: tuple[int, str] | None = None
        # What the fiscal-year closing needs (domain/closing.py), kept per calendar month because
        # the journal does not know where the cooperative's fiscal year starts: the months that
        # hold entries, and the EUR balance of each income/expense account (x party) per month.
        self.months: set[tuple[int, int]] = set()
        self.result_balances: dict[tuple[int, int], Counter[tuple[str, str | None]]] = defaultdict(Counter)
        # party -> (account, unit) -> balance in minor units (debit positive), on balance-sheet
        # accounts only, every entry recorded (domain/identities.py: no open balance to forget a person).
        self.party_balances: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)

    def next_number(self) -> int:
        return self.last_number + 1

    def seal(
        self,
        *,
        coop: str,
        kind: str,
        effective_date: date,
        recorded_at: datetime,
        label: str,
        postings: list[list[Any]],
        allow_empty: bool = False,
    ) -> tuple[int, str]:
        """Numbers and hashes the next entry (write path). Returns (number, chain hash).
        `allow_empty`: only a fiscal-year closing with nothing to carry has no postings."""
        number = self.next_number()
        if postings or not allow_empty:
            check_balanced(postings, f"entry {number}")
        chain_hash = entry_hash(
            prev_hash=self.last_hash,
            coop=coop,
            number=number,
            kind=kind,
            effective_date=effective_date,
            recorded_at=recorded_at,
            label=label,
            postings=postings,
        )
        self._sealed = (number, chain_hash)
        return number, chain_hash

    def append(self, event: Any, coop: str) -> None:
        """Applies a financial event: checks its number and hash, then advances."""
        number = event.journal_number
        if number != self.last_number + 1:
            raise IntegrityViolation(f"entry {number} follows entry {self.last_number}: numbering has a gap")
        sealed, self._sealed = self._sealed, None
        if sealed != (number, event.chain_hash):  # not just sealed here: a replayed event, verify it
            if event.postings or not getattr(event, "EMPTY_ENTRY_ALLOWED", False):
                check_balanced(event.postings, f"entry {number}")
            expected = entry_hash(
                prev_hash=self.last_hash,
                coop=coop,
                number=number,
                kind=event.kind,
                effective_date=event.effective_date,
                recorded_at=event.timestamp,
                label=event.label,
                postings=event.postings,
            )
            if event.chain_hash != expected:
                raise IntegrityViolation(f"entry {number}: stored hash does not match its content and the chain")
        self.last_number = number
        self.last_hash = event.chain_hash
        self.versions.append(event.originator_version)
        month = (event.effective_date.year, event.effective_date.month)
        self.months.add(month)
        for account, party, unit, amount in event.postings:
            if unit == "EUR" and account[0] in RESULT_CLASSES:
                self.result_balances[month][(account, party)] += amount
            elif party is not None and account[0] in BALANCE_SHEET_CLASSES:
                self.party_balances[party][(account, unit)] += amount

    def open_balances(self, party: str) -> dict[tuple[str, str], int]:
        """(account, unit) -> the party's non-zero balance (debit positive) on balance-sheet accounts."""
        balances = self.party_balances.get(party) or {}
        return {key: amount for key, amount in sorted(balances.items()) if amount != 0}

    def result_balances_between(self, first_day: date, last_day: date) -> dict[tuple[str, str | None], int]:
        """EUR balance (debit positive) of each income/expense account x party over whole months
        first_day..last_day (a fiscal year starts on the 1st of a month and ends on a month's last day)."""
        total: Counter[tuple[str, str | None]] = Counter()
        for (year, month), balances in self.result_balances.items():
            if (first_day.year, first_day.month) <= (year, month) <= (last_day.year, last_day.month):
                total.update(balances)
        return {key: amount for key, amount in total.items() if amount != 0}
