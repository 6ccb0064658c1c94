"""Bank statements: the cooperative's bank accounts, their CSV layout, and statements imported line by
line, each line once (docs/rules.md "Bank statements and reconciliation").

Files are read outside the domain (ledger/bank_files.py: CAMT.053, OFX, CSV) into one
ImportBankStatement. A line is known by the bank's own transaction id when the file gives one, else
by a digest of its account, booking date, amount, label and rank among the lines of the same file
that share those three (so the same line in two overlapping files gets the same id): importing a
file again, or an overlapping one, records only what is new, and the command's report says how
many lines were new and how many already known. Matching lines to what is owed is domain/bank_matching.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from domain.bank_csv import check_mapping
from domain.bank_items import compact_reference
from domain.bank_links import LinkBankLine
from domain.bank_matching import ConfirmBankMatch, ConfirmSureBankMatches, confirm_bank_match, confirm_sure_bank_matches
from domain.bank_state import BankAccountOpened, BankState, BankStatementImported, CsvMappingSet, bank_state
from domain.errors import Conflict, InvalidCommand
from domain.events import Meta
from domain.family import Fact, Family, Handler, register
from domain.money import EurosIn, Unit, format_minor, parse_decimal, to_minor
from domain.roles import FINANCIAL, STATUTES
from domain.rules import a_date, identifier, text

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

SOURCES = ("camt053", "ofx", "csv", "manual")
MAX_LINES = 10_000  # a statement of a cooperative's account: months of lines
MAX_REF_CHARS = 140  # ISO 20022's Max140Text: the longest id or reference a bank sends


@dataclass(frozen=True)
class OpenBankAccount:
    coop: str
    bank_account_id: str
    iban: str  # the cooperative's own account: not a person's data
    label: str
    effective_date: date
    bic: str | None = None  # left out: the one the IBAN's bank code gives
    ledger_account: str | None = None  # left out: the chart's bank account (role "bank", 512)


@dataclass(frozen=True)
class SetCsvMapping:
    coop: str
    bank_account_id: str
    mapping: dict[str, Any]  # domain/bank_csv.py: separator, encoding, date_format, decimal, thousands, skip_lines, columns
    effective_date: date


@dataclass(frozen=True)
class BankLineIn:
    """One line of a statement as the bank gives it. `amount` is signed: money in is positive."""

    booked_on: date
    amount: EurosIn
    label: str = ""
    value_date: date | None = None
    bank_ref: str | None = None  # the bank's own id of the transaction (CAMT AcctSvcrRef/NtryRef, OFX FITID)
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    reference: str | None = None  # the structured creditor reference (RF...) or the remittance text's reference
    end_to_end_id: str | None = None
    return_reason: str | None = None  # an R-transaction's reason code (CAMT RtrInf/Rsn/Cd, e.g. AC04, MD06)


@dataclass(frozen=True)
class ImportBankStatement:
    coop: str
    bank_account_id: str
    statement_id: str
    source: str  # camt053, ofx, csv or manual
    opening_balance: EurosIn  # signed: an overdraft is negative
    closing_balance: EurosIn
    closing_date: date
    lines: list[BankLineIn]


def signed_cents(value: Any, field: str, *, allow_zero: bool = True) -> int:
    """A signed amount in euros (a bank balance, a debit line) in cents."""
    amount = parse_decimal(value, field)
    cents = to_minor(abs(amount), Unit.EUR, field, allow_zero=allow_zero)
    return -cents if amount < 0 else cents


def line_id_of(bank_account_id: str, bank_ref: str | None, booked_on: date, amount_cents: int, label: str, rank: int) -> str:
    """A line's id: from the bank's own transaction id when there is one, else from what the line
    says and its rank among the file's lines saying the same (two equal transfers on one day)."""
    basis = (
        f"{bank_account_id}\x1fref\x1f{bank_ref}"
        if bank_ref
        else f"{bank_account_id}\x1f{booked_on}\x1f{amount_cents}\x1f{label}\x1f{rank}"
    )
    return "L" + hashlib.sha256(basis.encode()).hexdigest()[:20]


# ---------------------------------------------------------------- deciders


def open_bank_account(coop: Cooperative, cmd: OpenBankAccount, meta: Meta) -> None:
    state = bank_state(coop)
    account_id = identifier(cmd.bank_account_id, "bank_account_id")
    if account_id in state.accounts:
        raise Conflict("bank_account_id", "unique_bank_account", f"bank account {account_id!r} is already open")
    try:
        iban = IBAN(cmd.iban if isinstance(cmd.iban, str) else "")
    except SchwiftyException as exc:
        raise InvalidCommand("iban", "valid_iban", f"{cmd.iban!r} is not a valid IBAN ({exc})") from None
    if any(a.iban == iban.compact for a in state.accounts.values()):
        raise Conflict("iban", "unique_bank_account", f"{iban.formatted} is already one of {coop.slug}'s bank accounts")
    bic = _bic(cmd.bic, iban)
    number = cmd.ledger_account if cmd.ledger_account is not None else coop.chart.role("bank")
    coop.chart.account(number, "ledger_account")
    if not str(number).startswith("51"):
        raise InvalidCommand("ledger_account", "bank_ledger_account", f"{number} is not a bank account of the chart (51x)")
    coop.record(
        BankAccountOpened,
        effective_date=coop.check_effective_date(cmd.effective_date),
        meta=meta,
        bank_account_id=account_id,
        iban=iban.compact,
        bic=bic,
        ledger_account=number,
        label=text(cmd.label, "label", max_chars=100),
    )


def _bic(value: Any, iban: IBAN) -> str | None:
    if value is None:
        found = iban.bic
        return str(found) if found is not None else None
    try:
        return str(BIC(value if isinstance(value, str) else ""))
    except SchwiftyException as exc:
        raise InvalidCommand("bic", "valid_bic", f"{value!r} is not a valid BIC ({exc})") from None


def set_csv_mapping(coop: Cooperative, cmd: SetCsvMapping, meta: Meta) -> None:
    account = bank_state(coop).account(cmd.bank_account_id)
    mapping = check_mapping(cmd.mapping)
    day = coop.check_effective_date(cmd.effective_date)
    coop.record(CsvMappingSet, effective_date=day, meta=meta, bank_account_id=account.bank_account_id, mapping=mapping)


def _optional(value: Any, field: str, max_chars: int = MAX_REF_CHARS) -> str | None:
    if value is None:
        return None
    found = text(value, field, required=False, max_chars=max_chars)
    return found or None


def _line(account_id: str, i: int, line: Any, ranks: dict[tuple[Any, ...], int], closing: date) -> dict[str, Any]:
    """One line checked, as the event keeps it."""
    where = f"lines[{i}]"
    if not isinstance(line, BankLineIn):
        raise InvalidCommand(where, "object", "each line is an object with booked_on and amount")
    booked_on = a_date(line.booked_on, f"{where}.booked_on")
    if booked_on > closing:
        raise InvalidCommand(f"{where}.booked_on", "within_statement", f"{booked_on} is after the closing date {closing}")
    value_date = a_date(line.value_date, f"{where}.value_date") if line.value_date is not None else None
    amount = signed_cents(line.amount, f"{where}.amount", allow_zero=False)
    label = text(line.label, f"{where}.label", required=False)
    bank_ref = _optional(line.bank_ref, f"{where}.bank_ref")
    key = (booked_on, amount, label)
    ranks[key] = ranks.get(key, 0) + 1
    line_id = line_id_of(account_id, bank_ref, booked_on, amount, label, ranks[key])
    iban = _optional(line.counterparty_iban, f"{where}.counterparty_iban", 40)
    reference = _optional(line.reference, f"{where}.reference")
    return {
        "line_id": line_id,
        "booked_on": booked_on.isoformat(),
        "value_date": value_date.isoformat() if value_date else None,
        "amount_cents": amount,
        "label": label,
        "counterparty_id": f"line-{line_id}",
        "counterparty_name": _optional(line.counterparty_name, f"{where}.counterparty_name"),
        "counterparty_iban": iban.replace(" ", "").upper() if iban else None,
        "reference": compact_reference(reference) or reference,
        "end_to_end_id": _optional(line.end_to_end_id, f"{where}.end_to_end_id"),
        "return_reason": _optional(line.return_reason, f"{where}.return_reason", 35),
    }


def import_bank_statement(coop: Cooperative, cmd: ImportBankStatement, meta: Meta) -> dict[str, Any] | None:
    state = bank_state(coop)
    account = state.account(cmd.bank_account_id)
    statement_id = identifier(cmd.statement_id, "statement_id")
    if cmd.source not in SOURCES:
        raise InvalidCommand("source", "known_source", f"{cmd.source!r} is not one of {', '.join(SOURCES)}")
    opening = signed_cents(cmd.opening_balance, "opening_balance")
    closing = signed_cents(cmd.closing_balance, "closing_balance")
    closing_date = coop.check_effective_date(cmd.closing_date, "closing_date")
    if not isinstance(cmd.lines, list) or len(cmd.lines) > MAX_LINES:
        raise InvalidCommand("lines", "max_lines", f"a statement holds at most {MAX_LINES} lines: split the file")
    ranks: dict[tuple[Any, ...], int] = {}
    lines = [_line(account.bank_account_id, i, line, ranks, closing_date) for i, line in enumerate(cmd.lines)]
    total = sum(line["amount_cents"] for line in lines)
    if opening + total != closing:
        raise InvalidCommand(
            "closing_balance",
            "balances_add_up",
            f"the opening balance {_eur(opening)} and the lines ({_eur(total)}) make {_eur(opening + total)}, "
            f"not {_eur(closing)}",
        )
    seen: set[str] = set()
    new = []
    for line in lines:  # bounded by MAX_LINES
        if line["line_id"] not in state.lines and line["line_id"] not in seen:
            new.append(line)
        seen.add(line["line_id"])
    report = {"statement_id": statement_id, "lines": len(lines), "new_lines": len(new), "already_known": len(lines) - len(new)}
    if not new and statement_id in account.statements:
        return {**report, "recorded": False, "message": "nothing new: every line of this statement is already imported"}
    coop.record(
        BankStatementImported,
        effective_date=closing_date,
        meta=meta,
        bank_account_id=account.bank_account_id,
        statement_id=statement_id,
        source=cmd.source,
        first_day=min((date.fromisoformat(line["booked_on"]) for line in lines), default=closing_date),
        closing_date=closing_date,
        opening_balance_cents=opening,
        closing_balance_cents=closing,
        lines=new,
    )
    return {**report, "recorded": True}


def _eur(cents: int) -> str:
    return f"{format_minor(cents, Unit.EUR)} EUR"


FAMILY = register(
    Family(
        name="bank",
        commands={
            OpenBankAccount: Handler(open_bank_account, STATUTES | FINANCIAL),
            SetCsvMapping: Handler(set_csv_mapping, STATUTES | FINANCIAL),
            ImportBankStatement: Handler(import_bank_statement, FINANCIAL),
            ConfirmBankMatch: Handler(confirm_bank_match, FINANCIAL),
            ConfirmSureBankMatches: Handler(confirm_sure_bank_matches, FINANCIAL),
            LinkBankLine: Handler(None, FINANCIAL),  # decided by the ledger: it needs the entries (see Handler)
        },
        events={
            "BankAccountOpened": Fact("bank_account.opened", "cooperative"),
            "CsvMappingSet": Fact("csv_mapping.set", "cooperative"),
            # Lines hold payers' names and IBANs: admins and auditors follow them.
            "BankStatementImported": Fact("bank_statement.imported", "restricted"),
            "BankLineMatched": Fact("bank_line.matched", "restricted"),
        },
        state=BankState,
    )
)
