"""The FEC (Fichier des Écritures Comptables, Livre des procédures fiscales art. A47 A-1) of one
fiscal year: the file a French tax auditor asks for, and checks with the administration's tester.

What the file holds (the rules, in this project's words: docs/rules.md, FEC):
- the 18 columns in their legal order and names, tab-separated, UTF-8, CRLF line ends;
- one line per EUR posting (CREDIT and HOUR are not money: they stay out, as do entries that
  have no EUR posting); dates YYYYMMDD; amounts with a comma, no thousands separator, `0,00`
  on the side a line does not use; JournalCode, EcritureNum, EcritureDate, CompteNum,
  EcritureLib, Debit, Credit and ValidDate are never empty;
- the opening balances first (journal AN, dated the first day of the year): every account of
  classes 1 to 5 (and any class 8 account carrying euros) with its balance per party at the end
  of the previous year, plus the result of earlier years not yet closed into 120 / 129, so the
  opening entry balances even when no year was ever closed;
- then every entry dated in the year, in the order it was recorded (= validated: entries are
  immutable once recorded), numbered 1, 2, 3... in the file without gaps (EcritureNum);
- the closing entries that carry income and expense accounts into the result (the
  `FiscalYearClosed` event) are left out, as the law asks;
- a year with no entry in euros (an opening entry alone: a year to come, the year after the
  cooperative was sealed into a federation) has no file: refused (rule `year_has_entries`).

Field sources: JournalCode / JournalLib from the kind of event (its family's declaration, domain/family.py; a
reversal goes to the journal of the entry it cancels); CompAuxNum / CompAuxLib from the
posting's party and its name; PieceRef is the supporting document the entry cites when it has
one (RecordEntry, UseSubsidy), otherwise `JNL-<n>`: coopledger's own journal number n, so an
auditor can find the entry with `coopledger journal`; PieceDate and EcritureDate are the
entry's effective date; ValidDate is the day it was recorded (Paris time); EcritureLet,
DateLet (no lettering is kept), Montantdevise and Idevise (euros only) are empty.

An account number shorter than 3 digits is padded with zeros on the right (74 -> 740): the
format wants 3 leading digits (domain/accounts.py `fec_account_number`; AddAccount refuses a
number that would pad like one already in the chart, so two accounts never merge here). The
file is named `<SIREN>FEC<closing date YYYYMMDD>.txt`; a cooperative without a SIREN cannot
have one, and is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

from domain.accounts import fec_account_number
from domain.closing import FiscalYearClosed
from domain.errors import IntegrityViolation, InvalidCommand
from domain.events import FinancialEvent
from domain.family import ENTRY_JOURNALS, fact_of
from domain.rules import EARLIEST_DATE, LATEST_DATE
from ledger.exports.books import Books, read_books
from ledger.service import Ledger

log = structlog.get_logger("coopledger.exports")

COLUMNS = (
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
)
MANDATORY = ("JournalCode", "EcritureNum", "EcritureDate", "CompteNum", "EcritureLib", "Debit", "Credit", "ValidDate")
SEPARATOR = "\t"
LINE_END = "\r\n"
PARIS = ZoneInfo("Europe/Paris")

JOURNALS = {
    "AN": "À-nouveaux",
    "VT": "Appels et facturation",  # what members and clients are asked to pay: fees, bills, certifications
    "BQ": "Banque",  # money in or out of the bank
    "OD": "Opérations diverses",  # manual entries, grants awarded, subsidies granted or used
}
assert set(ENTRY_JOURNALS) < set(JOURNALS), "every journal a family may name has a label here"
# The closing entry posts income and expenses to the result: the FEC leaves it out (art. A47 A-1).
EXCLUDED_KINDS = frozenset({FiscalYearClosed.__name__})
RESULT_SURPLUS, RESULT_DEFICIT = "120", "129"


@dataclass(frozen=True)
class FecFile:
    filename: str
    rows: list[tuple[str, ...]]  # without the header
    entries: int
    debit_cents: int
    credit_cents: int

    def text(self) -> str:
        return "".join(SEPARATOR.join(row) + LINE_END for row in [COLUMNS, *self.rows])

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / self.filename
        with path.open("w", encoding="utf-8", newline="") as out:
            out.write(self.text())
        return path


def journal_code(event: FinancialEvent) -> str:
    kind = getattr(event, "reversed_kind", None) or event.kind  # a reversal sits with what it cancels
    fact = fact_of(kind)
    # Every financial event's family names its journal (domain/family.py checks it at registration).
    assert fact is not None and fact.journal in ENTRY_JOURNALS, f"{kind} has no FEC journal in its family's declaration"
    return fact.journal


def export_fec(ledger: Ledger, slug: str, year: int, *, party_names: Mapping[str, str] | None = None) -> FecFile:
    """The FEC of fiscal year `year` (the year it starts in). Raises InvalidCommand when the
    cooperative has no SIREN, the year is outside its life or has no entry in euros."""
    if not isinstance(year, int) or not EARLIEST_DATE.year <= year < LATEST_DATE.year:
        raise InvalidCommand("year", "range", f"must be a year between {EARLIEST_DATE.year} and {LATEST_DATE.year - 1}")
    books, events = read_books(ledger, slug)
    if books.siren is None:
        raise InvalidCommand(
            "siren", "siren_required", f"{slug} has no SIREN: the FEC file is named after it (<SIREN>FEC<closing date>.txt)"
        )
    start, end = books.fiscal_year(year)
    if end < books.founded_on:
        raise InvalidCommand(
            "year", "after_founding", f"fiscal year {year} ends on {end}, before {slug} was founded ({books.founded_on})"
        )
    opening, in_year = _before_and_in(events, start, end)
    if not in_year:
        # An opening entry alone is not a year's books: the year after the cooperative was sealed
        # into a federation, a year to come, a year with no money movement. Say so, write nothing.
        raise InvalidCommand(
            "year",
            "year_has_entries",
            f"fiscal year {year} ({start} to {end}) has no entry in euros in {slug}'s journal: "
            "an FEC lists a year's entries, and there are none to list",
        )
    rows, number = _rows(books, party_names or {}, year, start, opening, in_year)
    fec = FecFile(
        filename=f"{books.siren}FEC{end:%Y%m%d}.txt",
        rows=rows,
        entries=number,
        debit_cents=sum(_cents(r[11]) for r in rows),
        credit_cents=sum(_cents(r[12]) for r in rows),
    )
    _check(fec)
    log.info("fec_exported", coop=slug, year=year, entries=fec.entries, lines=len(rows), file=fec.filename)
    return fec


def _before_and_in(
    events: Iterable[FinancialEvent], start: date, end: date
) -> tuple[dict[tuple[str, str], int], list[FinancialEvent]]:
    """The opening balances (account, party) -> cents, debit positive, with the result of earlier
    years on 120 / 129; and the year's events with a EUR posting, closings left out."""
    opening: dict[tuple[str, str], int] = defaultdict(int)
    result_before = 0
    in_year: list[FinancialEvent] = []
    for event in events:
        euro = [p for p in event.postings if p[2] == "EUR"]
        if not euro or (event.kind in EXCLUDED_KINDS and event.effective_date >= start):
            continue  # a closing dated before the year stays: it moved earlier results into 120 / 129
        if event.effective_date < start:
            for account, party, _unit, amount in euro:
                if account[0] in "67":
                    result_before += amount
                else:
                    opening[(account, party or "")] += amount
        elif event.effective_date <= end:
            in_year.append(event)
    if result_before:
        opening[(RESULT_DEFICIT if result_before > 0 else RESULT_SURPLUS, "")] += result_before
    return opening, in_year


def _rows(
    books: Books,
    names: Mapping[str, str],
    year: int,
    start: date,
    opening: dict[tuple[str, str], int],
    in_year: list[FinancialEvent],
) -> tuple[list[tuple[str, ...]], int]:
    """The file's lines: the opening entry (AN), then the year's entries numbered on; returns them
    and the number of entries. Refuses accounts that padding to 3 digits would merge."""
    rows: list[tuple[str, ...]] = []
    padded: dict[str, set[str]] = defaultdict(set)  # CompteNum -> account numbers written as it

    def add(*fields: object) -> None:
        row = _row(books, names, *fields)  # type: ignore[arg-type]
        padded[row[4]].add(str(fields[3]))
        rows.append(row)

    number = 0
    open_lines = [(key, amount) for key, amount in sorted(opening.items()) if amount]
    if open_lines:
        number += 1
        for (account, party), amount in open_lines:
            add("AN", number, start, account, party, f"AN-{year}", f"À-nouveaux {year}", amount, start)
    for event in in_year:
        number += 1
        code = journal_code(event)
        piece = getattr(event, "piece_ref", None) or f"JNL-{event.journal_number}"
        valid = event.timestamp.astimezone(PARIS).date()
        for account, party, unit, amount in event.postings:
            if unit == "EUR":
                add(code, number, event.effective_date, account, party or "", piece, event.label, amount, valid)
    # AddAccount keeps charts free of such pairs; a store written before it did is still refused here.
    clashes = {compte: sorted(originals) for compte, originals in padded.items() if len(originals) > 1}
    if clashes:
        raise InvalidCommand("CompteNum", "three_digits", f"accounts padded to 3 digits would merge: {clashes}")
    return rows, number


def _row(
    books: Books,
    names: Mapping[str, str],
    code: str,
    number: int,
    day: date,
    account: str,
    party: str,
    piece: str,
    label: str,
    amount: int,
    valid: date,
) -> tuple[str, ...]:
    return (
        code,
        JOURNALS[code],
        str(number),
        f"{day:%Y%m%d}",
        fec_account_number(account),
        _clean(books.label(account)),
        _clean(party),
        _clean(names.get(party, party)) if party else "",
        _clean(piece),
        f"{day:%Y%m%d}",
        _clean(label),
        _amount(amount if amount > 0 else 0),
        _amount(-amount if amount < 0 else 0),
        "",
        "",
        f"{valid:%Y%m%d}",
        "",
        "",
    )


def _clean(text: str) -> str:
    """Labels come from validated text (no control characters); this keeps the format safe anyway."""
    return " ".join(text.replace(SEPARATOR, " ").split())


def _amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def _cents(text: str) -> int:
    whole, _, cents = text.partition(",")
    return int(whole) * 100 + int(cents)


def _check(fec: FecFile) -> None:
    """Refuses to hand out a file that breaks the format's own rules: it would be a bug here."""
    by_entry: dict[str, int] = defaultdict(int)
    for row in fec.rows:
        assert len(row) == len(COLUMNS)
        empty = [name for name, value in zip(COLUMNS, row, strict=True) if name in MANDATORY and not value]
        if empty:
            raise IntegrityViolation(f"FEC entry {row[2]}: mandatory field(s) {', '.join(empty)} empty")
        by_entry[row[2]] += _cents(row[11]) - _cents(row[12])
    unbalanced = {n: total for n, total in by_entry.items() if total}
    if unbalanced:
        raise IntegrityViolation(f"FEC entries do not balance in EUR: {unbalanced}")
    numbers = [int(n) for n in by_entry]
    if numbers != list(range(1, len(numbers) + 1)):
        raise IntegrityViolation("FEC entries are not numbered 1..N in order")
