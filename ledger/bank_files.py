"""Bank statement files read into ImportBankStatement commands: ISO 20022 CAMT.053 (XML), OFX, and
CSV in the layout saved for the account (SetCsvMapping). Why these parsers:
docs/decisions/0014-bank-statements.md.

A file that cannot be read is refused with InvalidCommand("file", rule, what and where), like a
command: nothing is recorded. Files are bounded (MAX_FILE_BYTES); the XML parser of the standard
library resolves no external entity, and expat refuses entity expansion bombs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.bank import MAX_LINES, BankLineIn, ImportBankStatement
from domain.bank_state import BankAccount
from domain.errors import InvalidCommand

FORMATS = ("camt053", "ofx", "csv")
MAX_FILE_BYTES = 5_000_000  # a year of a busy account is well under a megabyte
CONTENT_TYPES = {"camt053": "application/xml", "ofx": "application/x-ofx", "csv": "text/csv"}


def guess_format(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \r\n\t")
    if b"camt.053" in head or (head.startswith(b"<?xml") and b"BkToCstmrStmt" in data[:65536]):
        return "camt053"
    if b"OFXHEADER" in head or b"<OFX>" in head.upper():
        return "ofx"
    return "csv"


def read_statements(
    data: bytes, fmt: str | None, coop: str, account: BankAccount, *, opening: Decimal | None = None
) -> list[ImportBankStatement]:
    """The file's statements as commands for `account` (CAMT may hold several)."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidCommand("file", "max_file_size", f"a statement file is at most {MAX_FILE_BYTES} bytes")
    fmt = fmt or guess_format(data)
    if fmt == "camt053":
        return read_camt053(data, coop, account)
    if fmt == "ofx":
        return [read_ofx(data, coop, account)]
    if fmt == "csv":
        return [read_csv(data, coop, account, opening=opening)]
    raise InvalidCommand("format", "known_format", f"{fmt!r} is not one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------- CAMT.053


def _strip_namespaces(root: ET.Element) -> ET.Element:
    for element in root.iter():  # bounded by the file's size
        element.tag = element.tag.rpartition("}")[2]
    return root


def _text(element: ET.Element | None, path: str) -> str | None:
    found = element.find(path) if element is not None else None
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _camt_amount(element: ET.Element, where: str) -> Decimal:
    raw, side = _text(element, "Amt"), _text(element, "CdtDbtInd")
    try:
        amount = Decimal(raw or "")
    except InvalidOperation:
        raise InvalidCommand("file", "readable_statement", f"{where}: amount {raw!r} is not a number") from None
    if side not in ("CRDT", "DBIT"):
        raise InvalidCommand("file", "readable_statement", f"{where}: CdtDbtInd must be CRDT or DBIT, got {side!r}")
    return amount if side == "CRDT" else -amount


def _camt_date(element: ET.Element | None, where: str) -> date:
    raw = _text(element, "Dt") or (_text(element, "DtTm") or "")[:10]
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidCommand("file", "readable_statement", f"{where}: {raw!r} is not a date") from None


def _camt_line(entry: ET.Element, where: str) -> BankLineIn:
    amount = _camt_amount(entry, where)
    details = entry.find("NtryDtls/TxDtls")  # one transaction per entry (a batch booking reads as one line)
    side = "Dbtr" if amount > 0 else "Cdtr"
    party = details.find(f"RltdPties/{side}") if details is not None else None
    name = _text(party, "Nm") or _text(party, "Pty/Nm")
    iban = _text(details, f"RltdPties/{side}Acct/Id/IBAN")
    unstructured = " ".join(u.text.strip() for u in details.iter("Ustrd") if u.text) if details is not None else ""
    end_to_end = _text(details, "Refs/EndToEndId")
    label = _text(entry, "AddtlNtryInf") or unstructured or _text(details, "AddtlTxInf") or ""
    return BankLineIn(
        booked_on=_camt_date(entry.find("BookgDt"), f"{where} BookgDt"),
        amount=str(amount),
        label=label,
        value_date=_camt_date(entry.find("ValDt"), f"{where} ValDt") if entry.find("ValDt") is not None else None,
        bank_ref=_text(entry, "AcctSvcrRef") or _text(details, "Refs/AcctSvcrRef") or _text(entry, "NtryRef"),
        counterparty_name=name,
        counterparty_iban=iban,
        reference=_text(details, "RmtInf/Strd/CdtrRefInf/Ref"),
        end_to_end_id=None if end_to_end in (None, "NOTPROVIDED") else end_to_end,
        return_reason=_text(details, "RtrInf/Rsn/Cd"),
    )


def read_camt053(data: bytes, coop: str, account: BankAccount) -> list[ImportBankStatement]:
    try:
        root = _strip_namespaces(ET.fromstring(data))  # noqa: S314 (no external entities; expat bounds expansion)
    except ET.ParseError as exc:
        raise InvalidCommand("file", "readable_statement", f"not well-formed XML: {exc}") from None
    statements = root.findall("BkToCstmrStmt/Stmt")
    if not statements:
        raise InvalidCommand("file", "readable_statement", "no BkToCstmrStmt/Stmt: not a CAMT.053 statement")
    commands = []
    for n, stmt in enumerate(statements, start=1):  # bounded by the file
        where = f"statement {n}"
        iban = (_text(stmt, "Acct/Id/IBAN") or "").replace(" ", "")
        if iban != account.iban:
            raise InvalidCommand("file", "same_account", f"{where} is of account {iban or '?'}, not {account.bank_account_id}")
        balances = {_text(b, "Tp/CdOrPrtry/Cd"): b for b in stmt.findall("Bal")}
        opening, closing = balances.get("OPBD") or balances.get("PRCD"), balances.get("CLBD")
        if opening is None or closing is None:
            raise InvalidCommand("file", "readable_statement", f"{where}: needs an opening (OPBD) and a closing (CLBD) balance")
        entries = [e for e in stmt.findall("Ntry") if (_text(e, "Sts") or _text(e, "Sts/Cd") or "BOOK") == "BOOK"]
        lines = [_camt_line(e, f"{where} entry {i}") for i, e in enumerate(entries[: MAX_LINES + 1], start=1)]
        commands.append(
            ImportBankStatement(
                coop=coop,
                bank_account_id=account.bank_account_id,
                statement_id=_statement_id("camt", _text(stmt, "Id") or "", account),
                source="camt053",
                opening_balance=str(_camt_amount(opening, f"{where} opening balance")),
                closing_balance=str(_camt_amount(closing, f"{where} closing balance")),
                closing_date=_camt_date(closing.find("Dt"), f"{where} closing balance"),
                lines=lines,
            )
        )
    return commands


def _statement_id(prefix: str, given: str, account: BankAccount) -> str:
    """An identifier for the statement: the bank's own when it is one, else a digest of it."""
    plain = f"{prefix}-{given}"
    if given and len(plain) <= 64 and all(c.isalnum() or c in "_.-" for c in given):
        return plain
    return f"{prefix}-" + hashlib.sha256(f"{account.bank_account_id}\x1f{given}".encode()).hexdigest()[:24]


# ---------------------------------------------------------------- OFX


def read_ofx(data: bytes, coop: str, account: BankAccount) -> ImportBankStatement:
    from ofxtools.Parser import OFXTree

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
        ofx = tree.convert()
        stmt = ofx.statements[0]
        transactions = list(stmt.banktranlist or [])[: MAX_LINES + 1]
        ledger_balance = stmt.ledgerbal
    except Exception as exc:  # ofxtools raises many kinds (header, SGML, validation): each is an unreadable file
        raise InvalidCommand("file", "readable_statement", f"not a readable OFX bank statement: {exc}") from None
    lines = [
        BankLineIn(
            booked_on=t.dtposted.date(),
            amount=str(t.trnamt),
            label=t.memo or t.name or "",
            counterparty_name=t.name,
            value_date=t.dtuser.date() if getattr(t, "dtuser", None) else None,
            bank_ref=t.fitid,
            reference=getattr(t, "refnum", None),
        )
        for t in transactions
    ]
    closing = Decimal(ledger_balance.balamt)
    opening = closing - sum((Decimal(t.trnamt) for t in transactions), Decimal(0))
    tranlist = stmt.banktranlist
    period = f"{tranlist.dtstart:%Y%m%d}-{tranlist.dtend:%Y%m%d}" if tranlist is not None else ""
    return ImportBankStatement(
        coop=coop,
        bank_account_id=account.bank_account_id,
        statement_id=_statement_id("ofx", period, account),
        source="ofx",
        opening_balance=str(opening),
        closing_balance=str(closing),
        closing_date=ledger_balance.dtasof.date(),
        lines=lines,
    )


# ---------------------------------------------------------------- CSV


def _csv_amount(raw: str, mapping: dict[str, Any], where: str) -> Decimal:
    value = raw.strip().replace("\u00a0", " ").replace("\u202f", " ")
    thousands = mapping["thousands"].replace("\u00a0", " ").replace("\u202f", " ")
    if thousands:
        value = value.replace(thousands, "")
    value = value.replace(" ", "").replace(mapping["decimal"], ".").removeprefix("+")
    try:
        return Decimal(value) if value else Decimal(0)
    except InvalidOperation:
        raise InvalidCommand("file", "readable_statement", f"{where}: {raw!r} is not an amount in this layout") from None


def _csv_date(raw: str, mapping: dict[str, Any], where: str) -> date:
    try:
        return datetime.strptime(raw.strip(), mapping["date_format"]).date()  # noqa: DTZ007 (a date, no time)
    except ValueError:
        raise InvalidCommand("file", "readable_statement", f"{where}: {raw!r} is not a date {mapping['date_format']}") from None


def _csv_line(row: list[str], mapping: dict[str, Any], where: str) -> BankLineIn:
    columns = mapping["columns"]
    if max(columns.values()) >= len(row):
        raise InvalidCommand(
            "file", "readable_statement", f"{where}: {len(row)} columns, the layout needs {max(columns.values()) + 1}"
        )

    def cell(name: str) -> str | None:
        return row[columns[name]].strip() or None if name in columns else None

    if "amount" in columns:
        amount = _csv_amount(row[columns["amount"]], mapping, where)
    else:
        amount = abs(_csv_amount(row[columns["credit"]], mapping, where)) - abs(
            _csv_amount(row[columns["debit"]], mapping, where)
        )
    value_date = cell("value_date")
    return BankLineIn(
        booked_on=_csv_date(row[columns["date"]], mapping, where),
        amount=str(amount),
        label=cell("label") or "",
        value_date=_csv_date(value_date, mapping, where) if value_date else None,
        bank_ref=cell("bank_ref"),
        counterparty_name=cell("counterparty"),
        counterparty_iban=cell("counterparty_iban"),
        reference=cell("reference"),
    )


def read_csv(data: bytes, coop: str, account: BankAccount, *, opening: Decimal | None = None) -> ImportBankStatement:
    """A CSV gives no balances: the opening is `opening`, else the closing balance of the account's
    latest statement closed before the file's first line (else zero); the closing is the opening plus the lines."""
    mapping = account.csv_mapping
    if mapping is None:
        raise InvalidCommand("file", "csv_mapping", f"set the CSV layout of {account.bank_account_id} first (SetCsvMapping)")
    try:
        content = data.decode(mapping["encoding"]).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise InvalidCommand("file", "readable_statement", f"not {mapping['encoding']} text: {exc}") from None
    rows = list(csv.reader(io.StringIO(content), delimiter=mapping["separator"]))[mapping["skip_lines"] :]
    rows = [r for r in rows[: MAX_LINES + 1] if any(cell.strip() for cell in r)]
    lines = [_csv_line(row, mapping, f"line {mapping['skip_lines'] + i}") for i, row in enumerate(rows, start=1)]
    if opening is None:
        first = min((line.booked_on for line in lines), default=date.max)
        before = [st for st in account.statements.values() if st.closing_date < first]
        last = max(before, key=lambda st: st.closing_date, default=None)
        cents = last.closing_cents if last is not None else 0
        opening = Decimal(cents).scaleb(-2)
    total = sum((Decimal(str(line.amount)) for line in lines), Decimal(0))
    return ImportBankStatement(
        coop=coop,
        bank_account_id=account.bank_account_id,
        statement_id="csv-" + hashlib.sha256(data).hexdigest()[:24],
        source="csv",
        opening_balance=str(opening),
        closing_balance=str(opening + total),
        closing_date=max((line.booked_on for line in lines), default=date.today()),
        lines=lines,
    )
