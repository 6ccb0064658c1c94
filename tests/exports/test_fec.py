"""The FEC export (art. A47 A-1 LPF) on both stores: the structural rules of the format, checked
line by line on the demo, and the figures checked against the journal and balance views (a
source the export does not read: it reads the stored events)."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from domain.cooperative import AddAccount
from domain.entries import EntryLine, RecordEntry
from domain.errors import InvalidCommand
from domain.events import EVENT_CLASSES, FinancialEvent
from domain.family import facts
from ledger import demo_federation
from ledger.exports.fec import EXCLUDED_KINDS, JOURNALS, export_fec
from ledger.handlers import HANDLERS  # noqa: F401  (registers every family's events)
from ledger.migrate import migrate
from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.reports import party_names
from tests.builders import found_association, ok
from tests.exports.conftest import DEMO_COOPS

HEADER = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
]
MANDATORY = ["JournalCode", "EcritureNum", "EcritureDate", "CompteNum", "EcritureLib", "Debit", "Credit", "ValidDate"]
AMOUNT = re.compile(r"^\d+,\d{2}$")
SIRENS = {"cluster-numerique-sud": "912345675", "mednum-scic": "923456784"}


def cents(text: str) -> int:
    assert AMOUNT.match(text), f"{text!r} is not an amount with a comma and 2 decimals"
    whole, frac = text.split(",")
    return int(whole) * 100 + int(frac)


def structural_check(text: str) -> list[dict[str, str]]:
    """Every rule of the format a tester checks, written from the text of the law; returns the rows."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert lines[0].split("\t") == HEADER
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        assert len(fields) == 18, f"line {n}: {len(fields)} fields"
        row = dict(zip(HEADER, fields, strict=True))
        for name in MANDATORY:
            assert row[name], f"line {n}: {name} is empty"
        for name in ("EcritureDate", "PieceDate", "ValidDate"):
            datetime.strptime(row[name], "%Y%m%d")
        assert re.match(r"^\d{3}", row["CompteNum"]), row["CompteNum"]
        debit, credit = cents(row["Debit"]), cents(row["Credit"])
        assert (debit == 0) != (credit == 0), f"line {n}: one side only, and not zero"
        assert row["JournalLib"] == JOURNALS[row["JournalCode"]]
        assert bool(row["CompAuxNum"]) == bool(row["CompAuxLib"])
        assert row["Montantdevise"] == row["Idevise"] == ""  # euros only
        rows.append(row)
    # Entries numbered 1..N in file order, each contiguous, each balanced; and the whole file.
    numbers = [int(r["EcritureNum"]) for r in rows]
    assert numbers == sorted(numbers) and sorted(set(numbers)) == list(range(1, max(numbers) + 1))
    by_entry: dict[int, int] = defaultdict(int)
    for r, number in zip(rows, numbers, strict=True):
        by_entry[number] += cents(r["Debit"]) - cents(r["Credit"])
    assert all(total == 0 for total in by_entry.values()), {n: t for n, t in by_entry.items() if t}
    assert sum(cents(r["Debit"]) for r in rows) == sum(cents(r["Credit"]) for r in rows)
    # One date, journal and document per entry.
    for key in ("EcritureDate", "JournalCode", "PieceRef", "ValidDate"):
        per_entry = defaultdict(set)
        for r, number in zip(rows, numbers, strict=True):
            per_entry[number].add(r[key])
        assert all(len(v) == 1 for v in per_entry.values()), key
    return rows


def signed(row: dict[str, str]) -> int:
    return cents(row["Debit"]) - cents(row["Credit"])


def test_every_financial_event_kind_has_its_journal():
    journal_of_kind = {name: fact.journal for name, fact in facts().items() if fact.journal in JOURNALS}
    kinds = {name for name, cls in EVENT_CLASSES.items() if issubclass(cls, FinancialEvent)}
    missing = kinds - set(journal_of_kind) - EXCLUDED_KINDS - {"EntryReversed"}  # a reversal takes its original's journal
    assert not missing, f"name the FEC journal of these kinds in their family's declaration: {sorted(missing)}"
    assert set(journal_of_kind.values()) <= set(JOURNALS) - {"AN"}


def test_fec_of_the_demo_passes_the_structural_check_and_matches_the_views(demo, store_url, tmp_path):
    # One test per loaded demo (loading it is most of the time): the checks below are split
    # into functions named for what they check.
    ledger, _runner = demo
    check_document_reference_and_reversal_journal(ledger)
    check_year_before_founding_is_refused_and_cli_writes_the_file(ledger, store_url, tmp_path / "cli")
    check_sealed_founders_have_no_file_after_the_federation(ledger)
    for coop in DEMO_COOPS:
        names = party_names(ledger.db, coop)
        files = {}
        for year in (2025, 2026):
            fec = export_fec(ledger, coop, year, party_names=names)
            path = fec.write(tmp_path)
            assert path.name == f"{SIRENS[coop]}FEC{year}1231.txt"
            rows = structural_check(path.read_bytes().decode("utf-8"))
            files[year] = rows
            start, end = f"{year}0101", f"{year}1231"
            opening = [r for r in rows if r["JournalCode"] == "AN"]
            rest = [r for r in rows if r["JournalCode"] != "AN"]
            assert all(r["EcritureNum"] == "1" and r["EcritureDate"] == start for r in opening)
            assert rows[: len(opening)] == opening  # opening balances carry the first number, first
            assert all(start <= r["EcritureDate"] <= end for r in rest)
            # The year's lines are the journal view's EUR lines dated in the year, account by account.
            with ledger.db.read() as tx:
                expected = tx.execute(
                    "SELECT l.account, SUM(CASE WHEN l.amount > 0 THEN l.amount ELSE 0 END),"
                    " SUM(CASE WHEN l.amount < 0 THEN -l.amount ELSE 0 END), COUNT(DISTINCT l.number) FROM journal_lines l"
                    " WHERE l.coop = ? AND l.unit = 'EUR' AND l.effective_date BETWEEN ? AND ? GROUP BY l.account",
                    (coop, f"{year}-01-01", f"{year}-12-31"),
                )
                entries = tx.execute(
                    "SELECT COUNT(DISTINCT number) FROM journal_lines WHERE coop = ? AND unit = 'EUR'"
                    " AND effective_date BETWEEN ? AND ?",
                    (coop, f"{year}-01-01", f"{year}-12-31"),
                )[0][0]
            got: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for r in rest:
                got[r["CompteNum"]][0] += cents(r["Debit"])
                got[r["CompteNum"]][1] += cents(r["Credit"])
            assert dict(got) == {account: [int(d), int(c)] for account, d, c, _n in expected}
            assert len({r["EcritureNum"] for r in rest}) == int(entries)
            # Members' names from the registry; a posting without a party has no auxiliary account.
            for r in rows:
                if r["CompAuxNum"] in names:
                    assert r["CompAuxLib"] == names[r["CompAuxNum"]]
            assert any(r["CompAuxNum"] and r["CompAuxLib"] != r["CompAuxNum"] for r in rows)
        # 2026's opening = 2025's opening + 2025's movements, classes 1-5; income and expenses
        # collapse into the result (120 surplus / 129 deficit) since 2025 is not closed.
        carried: dict[tuple[str, str], int] = defaultdict(int)
        for r in files[2025]:
            account = r["CompteNum"]
            key = ("RESULT", "") if account[0] in "67" or account in ("120", "129") else (account, r["CompAuxNum"])
            carried[key] += signed(r)
        opened: dict[tuple[str, str], int] = defaultdict(int)
        for r in files[2026]:
            if r["JournalCode"] == "AN":
                key = ("RESULT", "") if r["CompteNum"] in ("120", "129") else (r["CompteNum"], r["CompAuxNum"])
                opened[key] += signed(r)
        assert {k: v for k, v in carried.items() if v} == dict(opened)
        assert opened[("RESULT", "")] != 0  # the demo's 2025 has a result: the line is really tested


def check_document_reference_and_reversal_journal(ledger: Ledger) -> None:
    rows = structural_check(export_fec(ledger, "cluster-numerique-sud", 2025).text())
    assert {r["PieceRef"] for r in rows if r["EcritureLib"] == "Étude des usages des médias locaux"} == {"F-2025-0042"}
    reversal = [r for r in rows if r["EcritureLib"].startswith("Annulation de l'écriture")]
    assert reversal and {r["JournalCode"] for r in reversal} == {"BQ"}  # it cancels a FeePaid: the bank journal
    (piece,) = {r["PieceRef"] for r in reversal}  # no document cited: coopledger's journal number
    with ledger.db.read() as tx:
        kind = tx.execute(
            "SELECT kind FROM journal_entries WHERE coop = ? AND number = ?",
            ("cluster-numerique-sud", int(piece.removeprefix("JNL-"))),
        )
    assert kind == [("EntryReversed",)]
    # The sensor credits (CREDIT) never reach the file; their euro redemptions do.
    assert not [r for r in rows if r["CompteNum"] in ("8018", "8091")]
    assert [r for r in rows if r["CompteNum"] == "6588"]


def test_fec_is_refused_without_a_siren_and_outside_the_cooperative_life(store_url, tmp_path):
    ledger = Ledger(StoreConfig.from_url(store_url))
    try:
        migrate(ledger.db)
        ok(ledger, found_association("nosiren", founded_on=date(2024, 3, 1)))
        with pytest.raises(InvalidCommand) as exc:
            export_fec(ledger, "nosiren", 2024)
        assert (exc.value.field, exc.value.rule) == ("siren", "siren_required")
        assert "SIREN" in exc.value.message
    finally:
        ledger.close()
    from cli.export import export
    from cli.main import build

    cli = build()

    cli.add_command(export)
    result = CliRunner().invoke(
        cli, ["--database-url", store_url, "export", "fec", "--coop", "nosiren", "--year", "2024", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code != 0
    assert "siren (siren_required)" in result.output
    assert not (tmp_path / "out").exists()


def check_year_before_founding_is_refused_and_cli_writes_the_file(ledger: Ledger, store_url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidCommand) as exc:
        export_fec(ledger, "mednum-scic", 2024)
    assert (exc.value.field, exc.value.rule) == ("year", "after_founding")
    from cli.export import export
    from cli.main import build

    cli = build()

    cli.add_command(export)
    result = CliRunner().invoke(
        cli, ["--database-url", store_url, "export", "fec", "--coop", "mednum-scic", "--year", "2025", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    written = tmp_path / "923456784FEC20251231.txt"
    assert written.exists()
    assert (
        written.read_bytes().decode("utf-8")
        == export_fec(ledger, "mednum-scic", 2025, party_names=party_names(ledger.db, "mednum-scic")).text()
    )
    assert list(csv.reader(io.StringIO(written.read_text(encoding="utf-8")), delimiter="\t"))[0] == HEADER


def check_sealed_founders_have_no_file_after_the_federation(ledger: Ledger) -> None:
    """A founder's books stop at the federation (2026-01-01): its 2026 would be an opening entry alone."""
    for founder in demo_federation.FOUNDERS:
        assert structural_check(export_fec(ledger, founder, 2025).text())
        with pytest.raises(InvalidCommand) as exc:
            export_fec(ledger, founder, 2026)
        assert (exc.value.field, exc.value.rule) == ("year", "year_has_entries")


def test_a_year_without_entries_in_euros_has_no_file(store_url, tmp_path):
    """A year with an opening entry alone (a year to come, or one with CREDIT postings only) is
    refused, naming the year, by the function and by the CLI (exit 1, nothing written)."""
    ledger = Ledger(StoreConfig.from_url(store_url))
    try:
        migrate(ledger.db)
        ok(ledger, replace(found_association("quiet", founded_on=date(2024, 1, 1)), siren="123456782"))
        ok(
            ledger,
            RecordEntry(
                "quiet",
                "apport",
                [EntryLine("512", debit=Decimal("10")), EntryLine("102", credit=Decimal("10"))],
                date(2024, 2, 1),
            ),
        )
        ok(
            ledger,
            RecordEntry(
                "quiet",
                "crédits",
                [EntryLine("604", debit=Decimal("5"), unit="CREDIT"), EntryLine("706", credit=Decimal("5"), unit="CREDIT")],
                date(2025, 2, 1),
            ),
        )
        assert structural_check(export_fec(ledger, "quiet", 2024).text())
        for year in (2025, 2031):
            with pytest.raises(InvalidCommand) as exc:
                export_fec(ledger, "quiet", year)
            assert (exc.value.field, exc.value.rule) == ("year", "year_has_entries")
            assert f"fiscal year {year} ({year}-01-01 to {year}-12-31) has no entry in euros" in exc.value.message
    finally:
        ledger.close()
    from cli.export import export
    from cli.main import build

    cli = build()

    cli.add_command(export)
    result = CliRunner().invoke(
        cli, ["--database-url", store_url, "export", "fec", "--coop", "quiet", "--year", "2025", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1, result.output
    assert "year (year_has_entries): fiscal year 2025" in result.output
    assert not (tmp_path / "out").exists()


def test_a_fiscal_year_from_july_names_the_file_by_its_closing_date(store_url):
    ledger = Ledger(StoreConfig.from_url(store_url))
    try:
        migrate(ledger.db)
        ok(ledger, replace(found_association("july", founded_on=date(2020, 7, 1)), siren="123456782", fiscal_year_start_month=7))
        for day, label in [(date(2020, 7, 1), "first day"), (date(2021, 6, 30), "last day"), (date(2021, 7, 1), "next year")]:
            ok(
                ledger,
                RecordEntry(
                    "july", label, [EntryLine("512", debit=Decimal("12.34")), EntryLine("706", credit=Decimal("12.34"))], day
                ),
            )
        fec = export_fec(ledger, "july", 2020)
        assert fec.filename == "123456782FEC20210630.txt"
        rows = structural_check(fec.text())
        assert [r["EcritureLib"] for r in rows] == ["first day", "first day", "last day", "last day"]
        opening = [r for r in structural_check(export_fec(ledger, "july", 2021).text()) if r["JournalCode"] == "AN"]
        assert {(r["CompteNum"], signed(r)) for r in opening} == {("512", 24_68), ("120", -24_68)}  # 2020's surplus
    finally:
        ledger.close()


def test_closing_entries_are_left_out(demo):
    closing = pytest.importorskip("domain.closing")  # the fiscal-year closing
    if closing.CloseFiscalYear not in HANDLERS:
        pytest.skip("CloseFiscalYear is not wired into ledger/handlers.py yet")
    ledger, runner = demo
    before = structural_check(export_fec(ledger, "mednum-scic", 2025).text())
    result = ledger.execute(closing.CloseFiscalYear("mednum-scic", 2025), "close-2025")
    assert result.accepted, result.error and result.error.as_dict()
    runner.catch_up()
    after = structural_check(export_fec(ledger, "mednum-scic", 2025).text())
    assert after == before  # the closing entry is not in the year's file
    opening = [r for r in structural_check(export_fec(ledger, "mednum-scic", 2026).text()) if r["JournalCode"] == "AN"]
    result_lines = [r for r in opening if r["CompteNum"] in ("120", "129")]
    income = sum(signed(r) for r in before if r["CompteNum"][0] in "67")
    assert sum(signed(r) for r in result_lines) == income != 0  # carried by the closing, same figure


def test_no_two_accounts_merge_when_padded_so_the_fec_is_always_written(store_url):
    """AddAccount refuses 58 beside 580 (and 740 beside 74): the FEC pads numbers to 3 digits,
    and a store holding both could never write the file of that year or any later one."""
    ledger = Ledger(StoreConfig.from_url(store_url))
    try:
        migrate(ledger.db)
        ok(ledger, replace(found_association("pad", founded_on=date(2024, 1, 1)), siren="123456782"))
        refused = ledger.execute(AddAccount("pad", "58", "Virements", "Transfers", date(2024, 1, 2)), "pad-58")
        assert not refused.accepted and refused.error.as_dict() == {  # 580 is in every default chart
            "kind": "conflict",
            "field": "number",
            "rule": "distinct_when_padded",
            "message": refused.error.message,
        }
        ok(ledger, AddAccount("pad", "74", "Subventions", "Grants", date(2024, 1, 2)))
        refused = ledger.execute(AddAccount("pad", "740", "Subventions", "Grants", date(2024, 1, 2)), "pad-740")
        assert not refused.accepted and (refused.error.field, refused.error.rule) == ("number", "distinct_when_padded")
        for account in ("74", "580", "741"):
            ok(
                ledger,
                RecordEntry(
                    "pad",
                    f"sur {account}",
                    [EntryLine("512", debit=Decimal("10")), EntryLine(account, credit=Decimal("10"))],
                    date(2024, 3, 1),
                ),
            )
        rows = structural_check(export_fec(ledger, "pad", 2024).text())
        assert {(r["CompteNum"], r["CompteLib"]) for r in rows if r["CompteNum"] != "512"} == {
            ("740", "Subventions"),
            ("580", "Virements internes"),
            ("741", "Subventions d'exploitation"),
        }
        ok(
            ledger,
            RecordEntry(
                "pad", "2025", [EntryLine("512", debit=Decimal("1")), EntryLine("74", credit=Decimal("1"))], date(2025, 3, 1)
            ),
        )
        rows = structural_check(export_fec(ledger, "pad", 2025).text())  # a later year, opening balances included
        assert {r["CompteNum"] for r in rows} == {"512", "580", "120", "740"}
    finally:
        ledger.close()
