"""Balances per account × party × unit, by day, so any as-of date is a sum over days.

The same sums without the party, per day and per month (account_totals_by_day/_by_month,
migration 0011), answer the trial balance and an account's balance as of any date from at most
(months of history + 31) rows per account, however many postings the history holds.
The trial balance sums to zero per unit; that is asserted on every read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.errors import IntegrityViolation
from domain.events import FinancialEvent
from ledger.db import Database, Tx
from ledger.postings import POSTINGS_TABLE
from projections.base import Projection
from projections.lookups import account_known, party_known, require_account_and_party


class BalancesProjection(Projection):
    name = "balances"
    tables = ("account_balances_by_day", "account_totals_by_day", "account_totals_by_month")
    # The stored state fields rebuild_in_store reads (the runner checks no upcaster changes them).
    state_fields = ("coop", "effective_date", "postings")

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        # Sum the batch in memory first: a rebuild then writes one row per (account, day)
        # instead of one per posting.
        deltas: dict[tuple[str, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for _position, e in batch:
            if not isinstance(e, FinancialEvent):
                continue
            day = e.effective_date.isoformat()
            for account, party, unit, amount in e.postings:
                cell = deltas[(e.coop, account, party or "", unit, day)]
                if amount > 0:
                    cell[0] += amount
                else:
                    cell[1] -= amount
        tx.executemany(
            "INSERT INTO account_balances_by_day (coop, account, party, unit, day, debit, credit)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (coop, account, party, unit, day) DO UPDATE SET"
            " debit = account_balances_by_day.debit + excluded.debit,"
            " credit = account_balances_by_day.credit + excluded.credit",
            [(*key, debit, credit) for key, (debit, credit) in deltas.items()],
        )
        by_day: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        by_month: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        for (coop, account, _party, unit, day), (debit, credit) in deltas.items():
            for cell in (by_day[(coop, account, unit, day)], by_month[(coop, account, unit, day[:7])]):
                cell[0] += debit
                cell[1] += credit
        for table, column, rows in (("account_totals_by_day", "day", by_day), ("account_totals_by_month", "month", by_month)):
            tx.executemany(
                f"INSERT INTO {table} (coop, account, unit, {column}, debit, credit) VALUES (?, ?, ?, ?, ?, ?)"  # noqa: S608
                f" ON CONFLICT (coop, account, unit, {column}) DO UPDATE SET"
                f" debit = {table}.debit + excluded.debit, credit = {table}.credit + excluded.credit",
                [(*key, debit, credit) for key, (debit, credit) in rows.items()],
            )

    def clear(self, tx: Tx) -> None:
        if tx.dialect == "postgres":
            # DELETE leaves every old row in the primary key's index until a vacuum, and each
            # insert of the rebuild then checks its key against the dead ones: 2x slower
            # (measured). TRUNCATE is transactional in PostgreSQL and starts a fresh index.
            tx.execute(f"TRUNCATE {', '.join(self.tables)}")
        else:
            super().clear(tx)

    # ---------------------------------------------------------------- set-based rebuild

    def rebuild_in_store(self, tx: Tx, after: int, upto: int) -> None:
        """Adds the postings of the entries at log positions (after, upto] to the view, summed by
        the database from the postings table the recorder writes with the events (ledger/postings.py):
        no JSON to parse, no event object built. `verify` checks that table equals the postings
        inside the events.

        Same rows as `process`: party None is stored as '', a positive amount is a debit, any
        other a credit (as a positive number); tests/perf/test_rebuild_in_store.py checks it.
        """
        if tx.dialect == "postgres":
            _rebuild_range_postgres(tx, after, upto)
            return
        # SQLite: each posting is merged into the view's primary-key B-tree; a GROUP BY first
        # would sort the postings (slower than the B-tree merge, measured).
        tx.execute(
            f"INSERT INTO account_balances_by_day (coop, account, party, unit, day, debit, credit) {_POSTINGS_SQL} {_MERGE_SQL}",
            (after, upto),
        )

    def finish_rebuild_in_store(self, tx: Tx) -> None:
        """After every range: the party-less totals, summed from the rows just written."""
        if tx.dialect == "postgres":
            # A hash aggregate in memory (the settings made by rebuild_in_store), into the table
            # emptied by `clear` without its key, built after: 20% less CPU (measured).
            _insert_then_key(
                tx,
                "account_totals_by_day",
                "coop, account, unit, day",
                "SELECT coop, account, unit, day, SUM(debit), SUM(credit) FROM account_balances_by_day"
                " GROUP BY coop, account, unit, day",
            )
        else:
            # SQLite sorts the view's rows for a GROUP BY: merging each into the totals' B-tree is
            # cheaper (measured), as for the view itself. WHERE true: without it SQLite's parser
            # takes ON CONFLICT for a join's constraint.
            merge = (
                "SELECT coop, account, unit, day, debit, credit FROM account_balances_by_day WHERE true"
                " ON CONFLICT (coop, account, unit, day) DO UPDATE SET"
                " debit = account_totals_by_day.debit + excluded.debit,"
                " credit = account_totals_by_day.credit + excluded.credit"
            )
            tx.execute(f"INSERT INTO account_totals_by_day (coop, account, unit, day, debit, credit) {merge}")
        tx.execute(
            "INSERT INTO account_totals_by_month (coop, account, unit, month, debit, credit)"
            " SELECT coop, account, unit, SUBSTR(day, 1, 7), SUM(debit), SUM(credit) FROM account_totals_by_day"
            " GROUP BY coop, account, unit, SUBSTR(day, 1, 7)"
        )


# The postings of log positions (?, ?] as the view's rows; the SQLite form, one row per posting.
_POSTINGS_SQL = (
    "SELECT coop, account, COALESCE(party, ''), unit, day,"
    " CASE WHEN amount > 0 THEN amount ELSE 0 END, CASE WHEN amount > 0 THEN 0 ELSE -amount END"
    f" FROM {POSTINGS_TABLE} WHERE position > ? AND position <= ?"
)
# The same, summed per row of the view (PostgreSQL).
_GROUPED_POSTINGS_SQL = (
    "SELECT coop, account, COALESCE(party, ''), unit, day,"
    " SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), SUM(CASE WHEN amount > 0 THEN 0 ELSE -amount END)"
    f" FROM {POSTINGS_TABLE} WHERE position > ? AND position <= ? GROUP BY coop, account, COALESCE(party, ''), unit, day"
)
_MERGE_SQL = (
    "ON CONFLICT (coop, account, party, unit, day) DO UPDATE SET"
    " debit = account_balances_by_day.debit + excluded.debit,"
    " credit = account_balances_by_day.credit + excluded.credit"
)


def _rebuild_range_postgres(tx: Tx, after: int, upto: int) -> None:
    """One range of the set-based rebuild on PostgreSQL.

    The postings are grouped by a hash aggregate held in memory: without statistics on the
    postings table (a server that does not autovacuum has none) the planner sorts them instead,
    comparing text under the database's collation, and spills the sort to disk at the default
    work_mem: 4x slower (measured). JIT is off: a plan whose cost crosses its threshold (as any
    sort does with enable_sort off) spent 0.47 s compiling (measured). The settings end with the
    rebuild's transaction.

    The first range writes into the view emptied by `clear` (the runner sums in the database only
    for a projection still at position zero): its rows go into the table without its primary key,
    which is then built once from them: maintaining the key row by row, each insert first probing
    it for a conflict, took twice as long (measured). Dropping the key locks the view until the
    rebuild commits: readers wait for the rebuilt view (they saw it empty before); one waiting
    longer than the lock timeout gets the API's retry answer (503).
    A row already there under the same key makes the key's creation fail: the rebuild rolls back,
    never a wrong sum. Later ranges (a log longer than one range) merge into the key.
    """
    tx.execute("SET LOCAL work_mem = '256MB'")
    tx.execute("SET LOCAL enable_sort = off")
    tx.execute("SET LOCAL jit = off")
    if after > 0:
        tx.execute(
            "INSERT INTO account_balances_by_day (coop, account, party, unit, day, debit, credit)"
            f" {_GROUPED_POSTINGS_SQL} {_MERGE_SQL}",
            (after, upto),
        )
        return
    _insert_then_key(tx, "account_balances_by_day", "coop, account, party, unit, day", _GROUPED_POSTINGS_SQL, (after, upto))


def _insert_then_key(tx: Tx, table: str, key: str, select: str, params: tuple[Any, ...] = ()) -> None:
    """PostgreSQL: fills an emptied table (columns: its key's, then debit and credit) from `select`
    without its primary key, then builds the key once from the rows. The key's name is PostgreSQL's
    default, which the migrations' tables have."""
    tx.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
    tx.execute(f"INSERT INTO {table} ({key}, debit, credit) {select}", params)  # noqa: S608 (constant SQL)
    tx.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY ({key})")


# An as-of read: whole months before the date's month, then that month's days up to the date.
_TOTALS_AS_OF = (
    "SELECT account, unit, debit, credit FROM account_totals_by_month WHERE coop = ? AND month < ?{extra}"
    " UNION ALL SELECT account, unit, debit, credit FROM account_totals_by_day"
    " WHERE coop = ? AND day >= ? AND day <= ?{extra}"
)


def _totals_params(coop: str, as_of: date | None, extra: Sequence[Any] = ()) -> tuple[list[Any], str, str]:
    day = (as_of or date.max).isoformat()
    month = day[:7]
    return [coop, month, *extra, coop, f"{month}-01", day, *extra], month, day


def trial_balance(db: Database, coop: str, *, as_of: date | None = None) -> dict[str, Any]:
    """Debit, credit and balance totals per account and unit as of a date (inclusive)."""
    sql, params = trial_balance_statement(coop, as_of=as_of)
    return trial_balance_from_rows(coop, db.query(sql, params), as_of=as_of)  # one statement: no snapshot to open


def trial_balance_statement(coop: str, *, as_of: date | None = None) -> tuple[str, tuple[Any, ...]]:
    """The trial balance's one statement and its parameters (the API awaits it on its event loop)."""
    params, _month, _day = _totals_params(coop, as_of)
    sql = (
        # Cast: PostgreSQL sums integers into numeric (projections/journal.py statement_query says why).
        "SELECT b.account, b.unit, CAST(SUM(b.debit) AS BIGINT), CAST(SUM(b.credit) AS BIGINT), a.label_fr, a.label_en"
        f" FROM ({_TOTALS_AS_OF.format(extra='')}) b"  # noqa: S608 (constant SQL)
        " LEFT JOIN accounts a ON a.coop = ? AND a.number = b.account"
        " GROUP BY b.account, b.unit, a.label_fr, a.label_en ORDER BY b.account, b.unit"  # class 8 memo units last
    )
    return sql, (*params, coop)


def trial_balance_from_rows(coop: str, rows: list[tuple[Any, ...]], *, as_of: date | None = None) -> dict[str, Any]:
    """The trial balance from its statement's rows; asserts that each unit balances."""
    accounts = []
    totals: dict[str, dict[str, int]] = {}
    for account, unit, debit, credit, label_fr, label_en in rows:
        debit, credit = int(debit), int(credit)
        accounts.append(
            {
                "account": account,
                "label_fr": label_fr,
                "label_en": label_en,
                "unit": unit,
                "debit": debit,
                "credit": credit,
                "balance": debit - credit,
            }
        )
        t = totals.setdefault(unit, {"debit": 0, "credit": 0})
        t["debit"] += debit
        t["credit"] += credit
    for unit, t in totals.items():
        if t["debit"] != t["credit"]:
            raise IntegrityViolation(f"{coop}: trial balance in {unit} does not balance: {t}")
    return {"coop": coop, "as_of": as_of.isoformat() if as_of else None, "accounts": accounts, "totals": totals}


def account_balance(
    db: Database, coop: str, account: str, *, party: str | None = None, unit: str = "EUR", as_of: date | None = None
) -> int:
    """Balance (debit − credit, minor units) of an account, optionally one party's, as of a date."""
    sql, params = _balance_sql(coop, account, party, unit, as_of)
    return int(db.query(sql, params)[0][0])  # one statement: no snapshot to open


def checked_balance(
    db: Database, coop: str, account: str, *, party: str | None = None, unit: str = "EUR", as_of: date | None = None
) -> int:
    """account_balance after require_account (and require_party when a party is named), all asked in
    one statement: the API's most frequent read costs one round trip, not three. An unknown account
    or party raises NotFound listing what exists, as the separate checks do."""
    found = balance_if_known(db.query(*checked_balance_statement(coop, account, party=party, unit=unit, as_of=as_of)))
    if found is not None:
        return found
    require_account_and_party(db, coop, account, party)  # raises, naming what exists
    return account_balance(db, coop, account, party=party, unit=unit, as_of=as_of)  # recorded meanwhile


def checked_balance_statement(
    coop: str, account: str, *, party: str | None = None, unit: str = "EUR", as_of: date | None = None
) -> tuple[str, list[Any]]:
    """The one statement of checked_balance, for a caller that runs it itself (api/: on the event
    loop); read its rows with balance_if_known."""
    checks = [account_known(coop, account)] + ([party_known(coop, party)] if party is not None else [])
    balance_sql, balance_params = _balance_sql(coop, account, party, unit, as_of)
    return (
        f"SELECT ({balance_sql}), " + ", ".join(sql for sql, _ in checks),  # noqa: S608 (constant SQL)
        [*balance_params, *(p for _, params in checks for p in params)],
    )


def balance_if_known(rows: list[tuple[Any, ...]]) -> int | None:
    """The balance, or None when the account or the party is unknown (then checked_balance says which)."""
    return int(rows[0][0]) if all(rows[0][1:]) else None


def _balance_sql(coop: str, account: str, party: str | None, unit: str, as_of: date | None) -> tuple[str, list[Any]]:
    if party is not None:
        # One party's rows: a range of the primary key (coop, account, party, unit, day).
        sql = (
            "SELECT COALESCE(SUM(debit - credit), 0) FROM account_balances_by_day"
            " WHERE coop = ? AND account = ? AND party = ? AND unit = ? AND day <= ?"
        )
        params: list[Any] = [coop, account, party, unit, (as_of or date.max).isoformat()]
    else:
        totals_params, _month, _day = _totals_params(coop, as_of, (account, unit))
        extra = " AND account = ? AND unit = ?"
        sql = f"SELECT COALESCE(SUM(debit - credit), 0) FROM ({_TOTALS_AS_OF.format(extra=extra)}) t"  # noqa: S608
        params = totals_params
    return sql, params
