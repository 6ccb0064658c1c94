"""Statement files written the way banks write them, from plain lines: the demo's statements
(ledger/demo_bank.py) and the tests' are made here, so they are read back by the same parsers as a
bank's (ledger/bank_files.py). Not a bank's exporter: only what those parsers read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


@dataclass(frozen=True)
class Line:
    booked_on: date
    amount: Decimal  # signed: money in is positive
    label: str
    bank_ref: str | None = None
    name: str | None = None
    iban: str | None = None
    reference: str | None = None  # an RF creditor reference
    end_to_end_id: str | None = None
    return_reason: str | None = None


def _side(amount: Decimal) -> str:
    return "CRDT" if amount >= 0 else "DBIT"


def _balance(code: str, amount: Decimal, day: date) -> str:
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{abs(amount):.2f}</Amt>'
        f"<CdtDbtInd>{_side(amount)}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
    )


def _camt_entry(line: Line) -> str:
    party = "Dbtr" if line.amount >= 0 else "Cdtr"
    related = ""
    if line.name or line.iban:
        related = "<RltdPties>"
        related += f"<{party}><Nm>{escape(line.name)}</Nm></{party}>" if line.name else ""
        related += f"<{party}Acct><Id><IBAN>{line.iban}</IBAN></Id></{party}Acct>" if line.iban else ""
        related += "</RltdPties>"
    remittance = f"<Ustrd>{escape(line.label)}</Ustrd>"
    if line.reference:
        remittance += (
            f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{line.reference}</Ref></CdtrRefInf></Strd>"
        )
    refs = f"<Refs><EndToEndId>{escape(line.end_to_end_id or 'NOTPROVIDED')}</EndToEndId></Refs>"
    returned = f"<RtrInf><Rsn><Cd>{line.return_reason}</Cd></Rsn></RtrInf>" if line.return_reason else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{abs(line.amount):.2f}</Amt><CdtDbtInd>{_side(line.amount)}</CdtDbtInd>'
        f"<Sts>BOOK</Sts><BookgDt><Dt>{line.booked_on.isoformat()}</Dt></BookgDt><ValDt><Dt>{line.booked_on.isoformat()}</Dt></ValDt>"
        + (f"<AcctSvcrRef>{escape(line.bank_ref)}</AcctSvcrRef>" if line.bank_ref else "")
        + f"<NtryDtls><TxDtls>{refs}{related}<RmtInf>{remittance}</RmtInf>{returned}</TxDtls></NtryDtls></Ntry>"
    )


def camt053(statement_id: str, iban: str, opening: Decimal, lines: list[Line], closing_date: date) -> bytes:
    closing = opening + sum((line.amount for line in lines), Decimal(0))
    first = min((line.booked_on for line in lines), default=closing_date)
    body = "".join(_camt_entry(line) for line in lines)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{CAMT_NS}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>{closing_date.isoformat()}T20:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{statement_id}</Id><CreDtTm>{closing_date.isoformat()}T20:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{_balance('OPBD', opening, first)}{_balance('CLBD', closing, closing_date)}{body}</Stmt></BkToCstmrStmt></Document>\n"
    )
    return xml.encode()


def ofx(iban: str, opening: Decimal, lines: list[Line], start: date, end: date) -> bytes:
    """An OFX 1.02 (SGML) bank statement, as French banks still give for download."""
    closing = opening + sum((line.amount for line in lines), Decimal(0))
    transactions = "".join(
        f"<STMTTRN><TRNTYPE>{'CREDIT' if line.amount >= 0 else 'DEBIT'}<DTPOSTED>{line.booked_on:%Y%m%d}"
        f"<TRNAMT>{line.amount:.2f}<FITID>{line.bank_ref}<NAME>{escape(line.name or line.label)[:32]}"
        f"<MEMO>{escape(line.label)}</STMTTRN>\n"
        for line in lines
    )
    header = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
        "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
    )
    body = (
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>"
        f"{end:%Y%m%d}<LANGUAGE>FRA</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1"
        "<STATUS><CODE>0<SEVERITY>INFO</STATUS><STMTRS><CURDEF>EUR<BANKACCTFROM>"
        f"<BANKID>{iban[4:9]}<BRANCHID>{iban[9:14]}<ACCTID>{iban[14:25]}<ACCTTYPE>CHECKING</BANKACCTFROM>"
        f"<BANKTRANLIST><DTSTART>{start:%Y%m%d}<DTEND>{end:%Y%m%d}\n{transactions}</BANKTRANLIST>"
        f"<LEDGERBAL><BALAMT>{closing:.2f}<DTASOF>{end:%Y%m%d}</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
    return (header + body).encode("ascii", "replace")


def french_amount(amount: Decimal) -> str:
    """1234.56 as a French bank writes it: `1 234,56` (a no-break space between thousands)."""
    whole, _, cents = f"{abs(amount):.2f}".partition(".")
    groups = []
    while whole:  # bounded by the digits
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return ("-" if amount < 0 else "") + "\u00a0".join(groups) + "," + cents


def csv_debit_credit(lines: list[Line]) -> bytes:
    """Date;Libellé;Débit;Crédit;Référence in Latin-1, one header line, French numbers."""
    rows = ["Date;Libellé;Débit;Crédit;Référence"]
    for line in lines:
        debit = french_amount(-line.amount) if line.amount < 0 else ""
        credit = french_amount(line.amount) if line.amount >= 0 else ""
        rows.append(f"{line.booked_on:%d/%m/%Y};{line.label};{debit};{credit};{line.reference or ''}")
    return ("\r\n".join(rows) + "\r\n").encode("latin-1")


CSV_DEBIT_CREDIT_MAPPING = {
    "separator": ";",
    "encoding": "latin-1",
    "date_format": "%d/%m/%Y",
    "decimal": ",",
    "thousands": "\u00a0",
    "skip_lines": 1,
    "columns": {"date": 0, "label": 1, "debit": 2, "credit": 3, "reference": 4},
}
