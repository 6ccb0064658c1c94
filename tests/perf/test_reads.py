"""The as-of reads from the party-less totals (migration 0011) answer exactly what summing the
by-day rows answers, on every date around the history's entries and month boundaries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from projections.balances import BalancesProjection, account_balance, trial_balance
from projections.runner import ProjectionRunner
from tests.builders import rich_history


def _by_day_trial_balance(ledger: Any, coop: str, as_of: date | None) -> list[tuple[str, str, int, int]]:
    with ledger.db.read() as tx:
        rows = tx.execute(
            "SELECT account, unit, SUM(debit), SUM(credit) FROM account_balances_by_day"
            " WHERE coop = ? AND day <= ? GROUP BY account, unit ORDER BY unit, account",
            (coop, (as_of or date.max).isoformat()),
        )
    return [(a, u, int(d), int(c)) for a, u, d, c in rows]


def _dates(ledger: Any) -> list[date | None]:
    with ledger.db.read() as tx:
        days = sorted({date.fromisoformat(d) for (d,) in tx.execute("SELECT DISTINCT day FROM account_balances_by_day")})
    out: set[date] = set()
    for d in days:
        first = d.replace(day=1)
        out.update({d, d - timedelta(days=1), first, first - timedelta(days=1), d + timedelta(days=1)})
    return [None, *sorted(out)]


def test_as_of_reads_equal_sums_of_the_daily_rows(ledger):
    rich_history(ledger)
    runner = ProjectionRunner(ledger, projections=(BalancesProjection,), batch_size=4)
    for build in ("incremental", "rebuilt"):
        if build == "incremental":
            runner.catch_up()
        else:
            runner.rebuild()
        dates = _dates(ledger)
        assert len(dates) > 10
        for coop in ("demo", "scic"):
            for as_of in dates:
                tb = trial_balance(ledger.db, coop, as_of=as_of)
                got = [(a["account"], a["unit"], a["debit"], a["credit"]) for a in tb["accounts"]]
                assert got == _by_day_trial_balance(ledger, coop, as_of), (build, coop, as_of)
                for account, unit, debit, credit in got:
                    assert account_balance(ledger.db, coop, account, unit=unit, as_of=as_of) == debit - credit
        assert account_balance(ledger.db, "demo", "411", party="alice") == sum(
            d - c for acc, party, d, c in _party_rows(ledger, "demo") if acc == "411" and party == "alice"
        )
        assert trial_balance(ledger.db, "demo", as_of=date(2019, 12, 31))["accounts"] == []


def _party_rows(ledger: Any, coop: str) -> list[tuple[str, str, int, int]]:
    with ledger.db.read() as tx:
        return [
            (a, p, int(d), int(c))
            for a, p, d, c in tx.execute(
                "SELECT account, party, debit, credit FROM account_balances_by_day WHERE coop = ?", (coop,)
            )
        ]
