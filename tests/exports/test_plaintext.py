"""The plain-text journal read by tools this project did not write: hledger's and ledger-cli's
balances must equal coopledger's trial balance, account by account and unit by unit, for the demo
and for hypothesis-generated books (both stores), and both tools' strict modes must accept the
file (every account and commodity declared). Missing tools skip, or fail when CI=true."""

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

from domain.cooperative import AddAccount
from domain.corrections import ReverseEntry
from domain.entries import EntryLine, RecordEntry
from domain.fees import CallFee, PayFee
from ledger.exports.plaintext import amount_text, export_plaintext
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.balances import trial_balance
from projections.registry import cooperative_slugs
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


def without_class(name: str) -> str:
    """`4:411:PUB-02` -> `411:PUB-02`: the export's tree starts at the account's class, its first digit."""
    account_class, _, rest = name.partition(":")
    assert rest[:1] == account_class, f"{name}: the first level is not the account's class"
    return rest


def hledger_balances(path: Path, *, depth: int | None) -> dict[tuple[str, str], int]:
    """(account, unit) -> balance in minor units, as hledger computes it (nonzero only): by class
    (depth 1), by account (depth 2, class dropped) or by party (None, class dropped)."""
    args = ["hledger", "-f", str(path), "bal", "-O", "csv", "--layout=bare", "--no-total"]
    args += [] if depth is None else ["--depth", str(depth)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    found = {
        (r["account"] if depth == 1 else without_class(r["account"]), r["commodity"]): minor(r["balance"], r["commodity"])
        for r in rows
    }
    return {k: v for k, v in found.items() if v}


def ledger_cli_balances(path: Path) -> dict[tuple[str, str], int]:
    """By account (--depth 2), as ledger-cli computes it. Its tree also prints a class holding
    several accounts on a line of its own: only `class:account` lines are kept."""
    found = {}
    for unit in PER_MAJOR:
        out = subprocess.run(
            [
                "ledger",
                "-f",
                str(path),
                "bal",
                "--no-total",
                "--depth",
                "2",
                "-l",
                f'commodity == "{unit}"',
                "-F",
                "%(account)\t%(quantity(display_total))\n",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for line in out.splitlines():
            account, quantity = line.split("\t")
            if account.count(":") == 1:
                found[(without_class(account), unit)] = minor(quantity, unit)
    return {k: v for k, v in found.items() if v}


def assert_strict_modes_accept(path: Path) -> None:
    """`hledger check --strict` exits 0 and `ledger --strict bal` warns about nothing (ledger-cli
    warns on stderr, exit status 0 either way): every account and commodity used is declared."""
    hledger = subprocess.run(["hledger", "check", "--strict", "-f", str(path)], capture_output=True, text=True, timeout=60)
    assert hledger.returncode == 0, hledger.stderr[-2000:]
    ledger_cli = subprocess.run(["ledger", "--strict", "-f", str(path), "bal"], capture_output=True, text=True, timeout=60)
    assert ledger_cli.returncode == 0 and not ledger_cli.stderr, ledger_cli.stderr[-2000:]


def by_class(balances: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = {}
    for (account, unit), amount in balances.items():
        totals[(account[0], unit)] = totals.get((account[0], unit), 0) + amount
    return {k: v for k, v in totals.items() if v}


def coopledger_balances(ledger: Ledger, coop: str, as_of: date | None = None) -> dict[tuple[str, str], int]:
    tb = trial_balance(ledger.db, coop, as_of=as_of)
    return {(a["account"], a["unit"]): a["balance"] for a in tb["accounts"] if a["balance"]}


def coopledger_party_balances(ledger: Ledger, coop: str) -> dict[tuple[str, str], int]:
    with ledger.db.read() as tx:
        rows = tx.execute(
            "SELECT account, party, unit, SUM(debit - credit) FROM account_balances_by_day WHERE coop = ?"
            " GROUP BY account, party, unit",
            (coop,),
        )
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
        assert hledger_balances(path, depth=2) == expected
        assert hledger_balances(path, depth=None) == coopledger_party_balances(ledger, coop)
        assert hledger_balances(path, depth=1) == by_class(expected)
        assert ledger_cli_balances(path) == expected
        # --as-of keeps entries dated on or before the day: the trial balance as of that day.
        day = date(2025, 4, 15)  # shared hours logged, not rebilled yet: HOUR balances are open
        write_journal(ledger, coop, path, as_of=day)
        assert hledger_balances(path, depth=2) == coopledger_balances(ledger, coop, as_of=day)
        assert_strict_modes_accept(path)
    units = {u for coop in DEMO_COOPS for as_of in (None, day) for _a, u in coopledger_balances(ledger, coop, as_of=as_of)}
    assert units == {"EUR", "CREDIT", "HOUR"}  # every unit is really compared


def test_both_strict_modes_accept_every_demo_journal(demo, tmp_path):
    """Every cooperative of the demo, founders sealed into the federation and the federation
    included: party sub-accounts, accounts added by AddAccount and carried ones all declared."""
    require_tool("hledger")
    require_tool("ledger")
    ledger, _runner = demo
    slugs = cooperative_slugs(ledger.db)
    assert set(slugs) > set(DEMO_COOPS)
    for coop in slugs:
        path = tmp_path / f"{coop}.journal"
        write_journal(ledger, coop, path)
        assert_strict_modes_accept(path)
        text = path.read_text(encoding="utf-8")
        assert "\naccount 5:512\n    ; Banque\n" in text  # ledger-cli's form: a note on its own line
        assert "commodity EUR\n" in text
    # One file holding every cooperative (as the benchmark writes it): declarations repeat, harmlessly.
    whole = tmp_path / "all.journal"
    whole.write_text("".join((tmp_path / f"{coop}.journal").read_text(encoding="utf-8") for coop in slugs), encoding="utf-8")
    assert_strict_modes_accept(whole)


def test_a_label_is_never_read_as_a_tag(store_url, tmp_path):
    """hledger reads `type:` in an account declaration's comment as the account type: a label
    holding one must not decide it (an unknown type fails the whole file)."""
    require_tool("hledger")
    require_tool("ledger")
    ledger = Ledger(StoreConfig.from_url(store_url))
    try:
        migrate(ledger.db)
        ok(ledger, found_association("tags", founded_on=date(2024, 1, 1)))
        ok(ledger, AddAccount("tags", "6061", "Fournitures type: consommables; divers", "Supplies type: x", date(2024, 1, 1)))
        ok(
            ledger,
            RecordEntry(
                "tags",
                "Achat",
                [EntryLine("6061", debit=Decimal("12.50"), party="F-1"), EntryLine("512", credit=Decimal("12.50"))],
                date(2024, 2, 1),
            ),
        )
        path = tmp_path / "tags.journal"
        write_journal(ledger, "tags", path)
        assert "account 6:6061:F-1\n    ; Fournitures type - consommables, divers, F-1\n" in path.read_text(encoding="utf-8")
        assert_strict_modes_accept(path)
        assert hledger_balances(path, depth=None) == {("6061:F-1", "EUR"): 1250, ("512", "EUR"): -1250}
    finally:
        ledger.close()


# ---------------------------------------------------------------- generated books

ACCOUNTS = ["512", "530", "604", "627", "706", "741", "401", "102", "7541", "4191", "1068"]
PARTIES = [None, None, "p1", "P-2", "x.y_3"]
MEMBERS = ["m1", "m2"]


def amount_of(unit: str, n: int) -> Decimal:
    """n minor units of the unit as a command takes it; HOUR in steps of 0.05 h (3 minutes)."""
    return Decimal(n) * Decimal("0.05") if unit == "HOUR" else Decimal(n) / 100


line_pair = st.tuples(
    st.sampled_from(ACCOUNTS),
    st.sampled_from(PARTIES),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(PARTIES),
    st.sampled_from(["EUR", "EUR", "CREDIT", "HOUR"]),
    st.integers(1, 10**9),
    st.integers(0, 3),
)
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
                lines.append(
                    EntryLine(credit_account, credit=amount_of(unit, first if split else n), party=credit_party, unit=unit)
                )
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
    url = store_factory.new(migrated=True)
    ledger = Ledger(StoreConfig.from_url(url))
    try:
        migrate(ledger.db)
        run_steps(ledger, "gen", drawn)
        runner = ProjectionRunner(ledger)
        runner.catch_up()
        path = tmp_path / "gen.journal"
        write_journal(ledger, "gen", path)
        assert hledger_balances(path, depth=2) == coopledger_balances(ledger, "gen")
        assert hledger_balances(path, depth=None) == coopledger_party_balances(ledger, "gen")
        assert_strict_modes_accept(path)
    finally:
        ledger.close()
        store_factory.drop(url)


def test_hledger_balances_equal_the_trial_balance_on_generated_books(store_factory, tmp_path):
    require_tool("hledger")
    require_tool("ledger")
    _check_generated(store_factory, tmp_path)
