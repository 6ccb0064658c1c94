"""The journal as a plain-text file that hledger and ledger-cli both read, so anyone can check
coopledger's balances with tools this project did not write (`hledger -f FILE bal`).

Format choices, each one because both tools parse it the same way:
- every unit is a commodity written after the amount: `300.00 EUR`, `12.50 CREDIT`,
  `1.25 HOUR`; always 2 decimals, which is exact: cents and hundredths of a credit are the minor
  units, and HOUR amounts are whole multiples of 3 minutes (0.05 h) because commands take hours
  with at most 2 decimals that are whole minutes (domain/money.py);
- an account is named class:number, a posting with a party goes to a sub-account of it:
  `5:512`, `4:411:PUB-02`; French account numbers say their class in their first digit, so the
  tree costs nothing and gives `--depth 1` the totals by class, `--depth 2` the trial balance by
  account and the full depth the balance by party;
- every commodity is declared at the top (`commodity EUR`) and every account and party
  sub-account used is declared before its first use, on a line of its own with the label as an
  indented comment: `account 4:411` then `    ; Usagers, adhérents`. That is the one form both
  strict modes accept: ledger-cli does not take `account 411  ; label` as a declaration
  (`ledger --strict` warns `Unknown account`), and hledger reads tags in that comment (a label
  holding `type: x` would declare an account type), so a label's ':' is written ' -';
- a transaction is `DATE * (n) label` with coopledger's journal number n as the code and the
  effective date as the date; kind, recording time and what a reversal cancels go in a comment.
Entries are written in recorded order (journal numbers 1..N); `--as-of` keeps entries dated
on or before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TextIO

import structlog

from domain.errors import IntegrityViolation
from domain.money import Unit
from ledger.exports.books import read_books
from ledger.service import Ledger

log = structlog.get_logger("coopledger.exports")


def amount_text(amount_minor: int, unit: str) -> str:
    """Minor units as an exact 2-decimal amount of the unit, e.g. 12345 EUR -> '123.45 EUR'."""
    if unit == Unit.HOUR.value:
        if amount_minor % 3:
            raise IntegrityViolation(f"{amount_minor} minutes is not a whole number of hundredths of an hour")
        hundredths = amount_minor // 3 * 5  # 3 minutes = 0.05 hour
    else:
        hundredths = amount_minor
    sign = "-" if hundredths < 0 else ""
    whole, cents = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{cents:02d} {unit}"


def _text(value: str) -> str:
    """Descriptions end at ';' in hledger (a comment starts there): keep labels on one line, without it."""
    return " ".join(value.replace(";", ",").split())


def _comment(value: str) -> str:
    """A label as comment text: `name:` in a comment is a tag to hledger, and on an account
    declaration `type:` would set the account's type (an unknown one fails the file)."""
    return _text(value.replace(":", " - "))


def account_name(account: str, party: str | None = None) -> str:
    """`512` -> `5:512`; with a party, `411`, `PUB-02` -> `4:411:PUB-02`. Party ids are identifiers
    (letters, digits, '.', '_', '-'): never a ':' or two spaces that would change the tree."""
    name = f"{account[0]}:{account}"
    return f"{name}:{party}" if party else name


def export_plaintext(ledger: Ledger, slug: str, out: TextIO, *, as_of: date | None = None) -> Iterator[int]:
    """Writes the journal of `slug` to `out`. Yields each journal number written (for progress)."""
    books, entries = read_books(ledger, slug)
    out.write(
        f"; coopledger journal of {_text(books.name)} ({slug}), {books.legal_form.value}"
        + (f", SIREN {books.siren}" if books.siren else "")
        + "\n"
    )
    out.write("; amounts: EUR in euros, CREDIT in reward credits, HOUR in hours (0.05 = 3 minutes)\n")
    out.write("; accounts: class:number[:party], e.g. 4:411:PUB-02 (--depth 1 by class, --depth 2 by account)\n")
    if as_of is not None:
        out.write(f"; entries dated on or before {as_of.isoformat()}\n")
    out.write("\n")
    # All units up front: the file is written in one pass, and an unused declaration is harmless.
    out.write("".join(f"commodity {unit.value}\n" for unit in Unit) + "\n")
    declared: set[str] = set()
    for event in entries:
        if as_of is not None and event.effective_date > as_of:
            continue
        for account, party, *_rest in event.postings:
            label = _comment(books.label(account)) or f"account {account}"
            for name, note in ((account_name(account), label), (account_name(account, party), f"{label}, {party}")):
                if name not in declared:
                    declared.add(name)
                    out.write(f"account {name}\n    ; {note}\n")
        reverses = getattr(event, "reverses", None)
        note = f"kind:{event.kind}, recorded:{event.timestamp.isoformat()}" + (f", reverses:{reverses}" if reverses else "")
        lines = [f"{event.effective_date.isoformat()} * ({event.journal_number}) {_text(event.label)}", f"    ; {note}"]
        for account, party, unit, amount in event.postings:
            lines.append(f"    {account_name(account, party)}    {amount_text(amount, unit)}")
        out.write("\n".join(lines) + "\n\n")
        yield event.journal_number
    log.info("plaintext_exported", coop=slug, accounts=len(declared), as_of=as_of.isoformat() if as_of else None)
