"""What the command routes answer beyond a command's receipt: the `report` of the commands that say
more than their events (a federation, a bank statement's import, bank lines confirmed or tied, a
direct debit's return), and the batch route's per-command results (api/routes_commands.py).

A decider's report is kept in the command's receipt as it returned it, amounts in minor units, so a
retry answers the same (ledger/service.py); it is written to the wire here, each report with a
`kind` naming its shape, amounts as Amounts (api/wire.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import structlog
from pydantic import Field

from api.answers.bank import BankLineAllocation
from api.wire import Amount, UnitCode, WireModel, amount, eur

log = structlog.get_logger("coopledger.api")


class StatementImportReport(WireModel):
    """ImportBankStatement: how many of the statement's lines were new. Each line is recorded once,
    however often the file comes; a statement with nothing new records nothing."""

    kind: Literal["statement_import"]
    statement_id: str
    lines: int = Field(description="Lines in the statement.")
    new_lines: int = Field(description="Lines not imported before: those recorded.")
    already_known: int = Field(description="Lines imported before (from this file or another).")
    recorded: bool = Field(description="False when nothing was new: no event recorded.")
    message: str | None = Field(None, description="Why nothing was recorded, in words.")


class BankMatchReport(WireModel):
    """ConfirmBankMatch, LinkBankLine: the line, who paid, and the payment entry of each part."""

    kind: Literal["bank_match"]
    line_id: str
    person_id: str | None = Field(None, description="Who paid (none when the tied entries name nobody).")
    allocations: list[BankLineAllocation]


class ConfirmedBankLine(WireModel):
    line_id: str
    person_id: str | None = None
    allocations: list[BankLineAllocation]
    reason: str = Field(description="Why its proposal was sure, in words.")


class CommandRefusal(WireModel):
    """Why a command was refused: the field at fault and the rule it broke. Nothing was written."""

    kind: Literal["invalid", "not_found", "conflict", "forbidden"] = Field(
        description="invalid (422 on its own route), not_found (404), conflict (409), forbidden (403)."
    )
    field: str = Field(description="The field at fault.")
    rule: str = Field(description="The rule that was broken, stable for programs.")
    message: str = Field(description="What went wrong, for a person.")


class SkippedBankLine(WireModel):
    line_id: str
    error: CommandRefusal = Field(description="Why its sure proposal could not be confirmed.")


class SureBankMatchesReport(WireModel):
    """ConfirmSureBankMatches: each line whose only sure proposal was confirmed, and those skipped."""

    kind: Literal["sure_bank_matches"]
    bank_account_id: str
    confirmed: list[ConfirmedBankLine]
    count: int = Field(description="Lines confirmed.")
    skipped: list[SkippedBankLine]


class DirectDebitReturnReport(WireModel):
    """ConfirmDirectDebitReturn: the returned line matched to the direct debit it takes back."""

    kind: Literal["direct_debit_return"]
    line_id: str
    person_id: str = Field(description="The member whose collection came back.")
    reason_code: str | None = Field(None, description="The bank's ISO 20022 reason code (AM04...).")
    item: str = Field(description='"direct_debit_return:<batch>:<end-to-end id>".')
    amount_eur: Amount = Field(description="The amount returned.")
    entry_number: int = Field(description="The journal entry of the return.")


class FederationCollege(WireModel):
    code: str
    name: str
    weight: str | None = Field(None, description='Its statutory weight in percent ("40", "100/3"); unweighted: null.')
    founders: list[str] = Field(description="The founding cooperatives whose members sit in it.")
    members: int = Field(description="Members moved into it.")


class FederationMemberMoved(WireModel):
    member_id: str = Field(description="The member's id in the federation.")
    founder_member_id: str = Field(description="Their id in the founding cooperative.")


class FederationBalance(WireModel):
    """A balance carried into the federation's books (an opening posting, or an open item)."""

    account: str
    party: str | None = None
    unit: UnitCode
    amount: Amount = Field(description="Signed: a debit is positive.")


class FederationTotals(WireModel):
    unit: UnitCode
    debit: Amount
    credit: Amount


class FederationFounder(WireModel):
    """A founding cooperative: the head of its sealed books, its members and the balances carried."""

    coop: str
    name: str
    head_number: int = Field(description="The last journal number of its books, now sealed.")
    head_hash: str = Field(description="That entry's chain hash.")
    opening_journal_number: int = Field(description="The federation's entry opening its balances.")
    college: str
    members_moved: int
    members: list[FederationMemberMoved]
    balances: list[FederationBalance] = Field(description="The opening entry's postings.")
    open_items: list[FederationBalance] = Field(description="What was still owed to or by it, carried by party.")
    totals: list[FederationTotals] = Field(description="Its opening entry's debits and credits, per unit.")


class FederationReport(WireModel):
    """FederateCooperatives: the colleges, what each founder brought, and the totals per unit."""

    kind: Literal["federation"]
    coop: str = Field(description="The federation.")
    effective_date: str = Field(description="YYYY-MM-DD.")
    colleges: list[FederationCollege]
    founders: list[FederationFounder]
    totals: list[FederationTotals] = Field(description="Every opening entry's debits and credits, per unit.")


CommandReport = Annotated[
    StatementImportReport | BankMatchReport | SureBankMatchesReport | DirectDebitReturnReport | FederationReport,
    Field(discriminator="kind"),
]


class AcceptedCommand(WireModel):
    """A command of a batch (or a statement's import) recorded, or recorded before under its key."""

    accepted: Literal[True]
    coop: str
    command: str
    idempotency_key: str
    position: int = Field(description="Where the command sits in the log: pass it as min_position to read your write.")
    journal_numbers: list[int] = Field(description="Journal entries the command recorded, if it moved value.")
    events: list[str] = Field(description="Names of the events recorded.")
    duplicate: bool = Field(description="True when the key had recorded it before: nothing written this time.")
    report: CommandReport | None = Field(None, description="What the command did beyond its events, when it says.")


class RefusedCommand(WireModel):
    """A command of a batch refused: nothing of it was written (the others stand on their own)."""

    accepted: Literal[False]
    coop: str
    command: str
    idempotency_key: str
    error: CommandRefusal


class BatchResults(WireModel):
    """Each command's result, in the order sent."""

    results: list[AcceptedCommand | RefusedCommand]
    accepted: int = Field(description="Commands accepted (duplicates included).")
    refused: int = Field(description="Commands refused.")


def _balance(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": row["account"],
        "party": row["party"],
        "unit": row["unit"],
        "amount": amount(row["amount_minor"], row["unit"]),
    }


def _totals(by_unit: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    return [{"unit": u, "debit": amount(t["debit"], u), "credit": amount(t["credit"], u)} for u, t in sorted(by_unit.items())]


def _founder(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "balances": [_balance(b) for b in row["balances"]],
        "open_items": [_balance(b) for b in row["open_items"]],
        "totals": _totals(row["totals"]),
    }


def _federation(report: dict[str, Any]) -> dict[str, Any]:
    founders = [_founder(f) for f in report["founders"]]
    return {**report, "kind": "federation", "founders": founders, "totals": _totals(report["totals"])}


def _allocations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"item": a["item"], "amount_eur": eur(a["amount_cents"]), "entry_number": a["entry_number"]} for a in rows]


def _bank_match(report: dict[str, Any]) -> dict[str, Any]:
    return {**report, "kind": "bank_match", "allocations": _allocations(report["allocations"])}


def _sure_matches(report: dict[str, Any]) -> dict[str, Any]:
    confirmed = [{**c, "allocations": _allocations(c["allocations"])} for c in report["confirmed"]]
    return {**report, "kind": "sure_bank_matches", "confirmed": confirmed}


def _direct_debit_return(report: dict[str, Any]) -> dict[str, Any]:
    answer = {k: v for k, v in report.items() if k != "amount_cents"}
    return {**answer, "kind": "direct_debit_return", "amount_eur": eur(report["amount_cents"])}


# The commands whose decider returns a report, and how each is written to the wire. A command that
# starts to return one must be added here (command_report leaves an unknown one out, logged).
REPORTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ImportBankStatement": lambda report: {**report, "kind": "statement_import"},
    "ConfirmBankMatch": _bank_match,
    "LinkBankLine": _bank_match,
    "ConfirmSureBankMatches": _sure_matches,
    "ConfirmDirectDebitReturn": _direct_debit_return,
    "FederateCooperatives": _federation,
}


def command_report(command: str, report: dict[str, Any] | None) -> dict[str, Any] | None:
    """A command's report as the wire writes it; None stays None."""
    if report is None:
        return None
    if command not in REPORTS:
        # The command is recorded already: a 500 now would hide a write that happened, on every
        # retry too (a retry replays the stored report). The report is left out of the answer and
        # logged; tests/api/test_command_reports.py fails the build for a shipped command that
        # returns one not listed here.
        log.error("command_report_without_wire_form", command=command)
        return None
    return REPORTS[command](report)


def result_answer(result: dict[str, Any]) -> dict[str, Any]:
    """A CommandResult.as_dict() (ledger/service.py) with its report written to the wire."""
    if "report" not in result:
        return result
    return {**result, "report": command_report(result["command"], result["report"])}
