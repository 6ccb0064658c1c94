"""The plain-text journal read by tools this project did not write: hledger's and ledger-cli's
balances must equal coopledger's trial balance, account by account and unit by unit, for the demo
and for hypothesis-generated books (both stores). Missing tools skip, or fail when CI=true."""

from __future__ import annotations

import csv
import io
import itertools
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.corrections import ReverseEntry
from domain.entries import EntryLine, RecordEntry
from domain.fees import CallFee, PayFee
from ledger.exports.plaintext import amount_text, export_plaintext
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.balances import trial_balance
from projections.runner import ProjectionRunner
from tests.builders import admit, found_association, ok
from tests.exports.conftest import DEMO_COOPS, require_tool

PER_MAJOR = {"EUR": 100, "CREDIT": 100, "HOUR": 60}
_keys = itertools.count(1)


def write_journal(ledger: Ledger, coop: str, path: Path, as_of: date | None = None) -> int:
    with path.open("w", encoding="utf-8") as out:
        return sum(1 for _ in export_plaintext(ledger, coop, out, as_of=as_of))


def minor(quantity: str, unit: str) -> int:
    value = Decimal(quantity) * PER_MAJOR[unit]
    assert value == value.to_integral_value(), f"{quantity} {unit} is not a whole number of minor units"
    return int(value)


def hledger_balances(path: Path, *, by_party: bool) -> dict[tuple[str, str], int]:
    """(account, unit) -> balance in minor units, as hledger computes it (nonzero only)."""
    args = ["hledger", "-f", str(path), "bal", "-O", "csv", "--layout=bare", "--no-total"]
    args += [] if by_party else ["--depth", "1"]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    found = {(r["account"], r["commodity"]): minor(r["balance"], r["commodity"]) for r in rows}
    return {k: v for k, v in found.items() if v}


def ledger_cli_balances(path: Path) -> dict[tuple[str, str], int]:
    found = {}
    for unit in PER_MAJOR:
        out = subprocess.run(
            ["ledger", "-f", str(path), "bal", "--no-total", "--depth", "1", "-l", f'commodity == "{unit}"',
             "-F", "%(account)\t%(quantity(display_total))\n"], capture_output=True, text=True, check=True, timeout=60).stdout
        for line in out.splitlines():
            account, quantity = line.split("\t")
            found[(account, unit)] = minor(quantity, unit)
    return {k: v for k, v in found.items() if v}


def coopledger_balances(ledger: Ledger, coop: str, as_of: date | None = None) -> dict[tuple[str, str], int]:
    tb = trial_balance(ledger.db, coop, as_of=as_of)
    return {(a["account"], a["unit"]): a["balance"] for a in tb["accounts"] if a["balance"]}


def coopledger_party_balances(ledger: Ledger, coop: str) -> dict[tuple[str, str], int]:
    with ledger.db.read() as tx:
        rows = tx.execute("SELECT account, party, unit, SUM(debit - credit) FROM account_balances_by_day WHERE coop = ?"
                          " GROUP BY account, party, unit", (coop,))
    return {(f"{a}:{p}" if p else a, u): int(b) for a, p, u, b in rows if int(b)}


def test_amounts_are_exact_two_decimal_commodities():
    assert amount_text(12345, "EUR") == "123.45 EUR"
    assert amount_text(-5, "CREDIT") == "-0.05 CREDIT"
    assert amount_text(75, "HOUR") == "1.25 HOUR"  # 75 minutes
    assert amount_text(-3, "HOUR") == "-0.05 HOUR"


def test_hledger_and_ledger_cli_balances_equal_the_trial_balance_on_the_demo(demo, tmp_path):
    require_tool("hledger")
    require_tool("ledger")
    ledger, _runner = demo
    for coop in DEMO_COOPS:
        path = tmp_path / f"{coop}.journal"
        assert write_journal(ledger, coop, path) > 50
        expected = coopledger_balances(ledger, coop)
        assert {unit for _account, unit in expected} >= {"EUR"}
        assert hledger_balances(path, by_party=False) == expected
        assert hledger_balances(path, by_party=True) == coopledger_party_balances(ledger, coop)
        assert ledger_cli_balances(path) == expected
        # --as-of keeps entries dated on or before the day: the trial balance as of that day.
        day = date(2025, 4, 15)  # shared hours logged, not rebilled yet: HOUR balances are open
        write_journal(ledger, coop, path, as_of=day)
        assert hledger_balances(path, by_party=False) == coopledger_balances(ledger, coop, as_of=day)
    units = {u for coop in DEMO_COOPS for as_of in (None, day) for _a, u in coopledger_balances(ledger, coop, as_of=as_of)}
    assert units == {"EUR", "CREDIT", "HOUR"}  # every unit is really compared


# ---------------------------------------------------------------- generated books

ACCOUNTS = ["512", "530", "604", "627", "706", "741", "401", "102", "7541", "4191", "1068"]
PARTIES = [None, None, "p1", "P-2", "x.y_3"]
MEMBERS = ["m1", "m2"]


def amount_of(unit: str, n: int) -> Decimal:
    """n minor units of the unit as a command takes it; HOUR in steps of 0.05 h (3 minutes)."""
    return Decimal(n) * Decimal("0.05") if unit == "HOUR" else Decimal(n) / 100


line_pair = st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(PARTIES), st.sampled_from(ACCOUNTS), st.sampled_from(PARTIES),
                      st.sampled_from(["EUR", "EUR", "CREDIT", "HOUR"]), st.integers(1, 10**9), st.integers(0, 3))
entry = st.tuples(st.just("entry"), st.lists(line_pair, min_size=1, max_size=3), st.integers(0, 900))
fee = st.tuples(st.just("fee"), st.sampled_from(MEMBERS), st.integers(0, 2), st.integers(1, 20_000), st.integers(0, 900))
reverse = st.tuples(st.just("reverse"), st.integers(1, 30), st.integers(0, 900))
steps = st.lists(st.one_of(entry, entry, fee, reverse), min_size=1, max_size=12)


def run_steps(ledger: Ledger, coop: str, drawn: list[tuple[Any, ...]]) -> None:
    founded = date(2020, 1, 1)
    ok(ledger, found_association(coop, founded_on=founded))
    for member in MEMBERS:
        ok(ledger, admit(coop, member, "founders", founded))
    for step in drawn:
        day = founded + timedelta(days=step[-1])
        if step[0] == "entry":
            lines = []
            for debit_account, debit_party, credit_account, credit_party, unit, n, split in step[1]:
                first = max(1, n * split // 4)  # the credit side in one or two lines
                lines.append(EntryLine(debit_account, debit=amount_of(unit, n), party=debit_party, unit=unit))
                lines.append(EntryLine(credit_account, credit=amount_of(unit, first if split else n), party=credit_party, unit=unit))
                if split and n - first:
                    lines.append(EntryLine("512", credit=amount_of(unit, n - first), unit=unit))
            ok(ledger, RecordEntry(coop, f"Écriture générée {next(_keys)} ; avec | et : dedans", lines, day, piece_ref="G-1"))
        elif step[0] == "fee":
            _kind, member, year_offset, paid, _day = step
            ledger.execute(CallFee(coop, member, 2020 + year_offset, day), f"k{next(_keys)}")  # refused when called twice
            ledger.execute(PayFee(coop, member, 2020 + year_offset, Decimal(paid) / 100, day), f"k{next(_keys)}")
        else:
            ledger.execute(ReverseEntry(coop, step[1], "générée", day), f"k{next(_keys)}")  # refused when unknown


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(drawn=steps)
def _check_generated(store_factory: Any, tmp_path: Path, drawn: list[tuple[Any, ...]]) -> None:
    url = store_factory.new()
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        run_steps(ledger, "gen", drawn)
        runner = ProjectionRunner(ledger)
        runner.catch_up()
        path = tmp_path / "gen.journal"
        write_journal(ledger, "gen", path)
        assert hledger_balances(path, by_party=False) == coopledger_balances(ledger, "gen")
        assert hledger_balances(path, by_party=True) == coopledger_party_balances(ledger, "gen")
    finally:
        ledger.close()
        store_factory.drop(url)


def test_hledger_balances_equal_the_trial_balance_on_generated_books(store_factory, tmp_path):
    require_tool("hledger")
    _check_generated(store_factory, tmp_path)
