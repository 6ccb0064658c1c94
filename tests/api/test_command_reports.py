"""Every command whose decider returns a report has its wire form (api/answers/commands.py): a new
one would otherwise answer 500 (the API refuses to write a report it has no model for)."""

from __future__ import annotations

import structlog.testing

from api.answers.commands import REPORTS, command_report
from ledger.decision import SPECIAL
from ledger.handlers import HANDLERS


def _returns_a_report(handler) -> bool:
    """A decider annotated to return something (a dict, maybe None) rather than None."""
    return handler.__annotations__.get("return") not in (None, "None")


def test_every_command_with_a_report_is_written_to_the_wire():
    with_reports = {cls.__name__ for cls, handler in HANDLERS.items() if _returns_a_report(handler)}
    assert with_reports == {"ImportBankStatement", "ConfirmBankMatch", "ConfirmSureBankMatches", "ConfirmDirectDebitReturn"}
    # The special deciders (ledger/decision.py) that pass a report on: the federation and a bank line tied to entries.
    special = {cls.__name__ for cls in SPECIAL} & set(REPORTS)
    assert special == {"FederateCooperatives", "LinkBankLine"}
    assert with_reports | special == set(REPORTS)


def test_a_report_the_api_has_no_model_for_is_left_out_and_logged_not_a_500_after_the_write():
    assert command_report("PayFee", None) is None
    with structlog.testing.capture_logs() as logs:
        assert command_report("PayFee", {"paid_cents": 100}) is None  # never passed on unchecked
    assert [(e["event"], e["command"]) for e in logs] == [("command_report_without_wire_form", "PayFee")]
