"""Bank statements over HTTP: a statement file in (the request's body as the bank gave it), the
lines, what is still owed, the proposals and the reconciliation (docs/rules.md "Bank statements and
reconciliation"). Confirming a match is the command ConfirmBankMatch (or ConfirmSureBankMatches) on
the command routes. Reads: admin, treasurer, auditor (the lines hold payers' names and IBANs)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from api.answers import bank as answers
from api.answers.commands import AcceptedCommand, result_answer
from api.deps import Services, client_of, commander, document_access, fresh, reader, services, views
from api.errors import PROBLEM_RESPONSES, UNSUPPORTED_MEDIA, ApiError, domain_problem
from api.examples import ok
from api.keys import Principal
from domain.bank_state import bank_state
from domain.rules import IDENTIFIER
from ledger.bank_files import CONTENT_TYPES, MAX_FILE_BYTES, read_statements
from ledger.db import Database
from projections.bank_reads import (
    bank_accounts,
    bank_lines,
    bank_proposals,
    bank_reconciliation,
    cooperative_state,
    open_items_read,
)

# The form is documented, not enforced here: the read or the command answers its own rule (identifier).
ACCOUNT = Path(
    max_length=64, description="The bank account's id (OpenBankAccount)", json_schema_extra={"pattern": IDENTIFIER.pattern}
)
FORMAT_OF = {
    "application/xml": "camt053",
    "text/xml": "camt053",
    "application/x-ofx": "ofx",
    "application/ofx": "ofx",
    "text/csv": "csv",
}
LINE = {
    "line_id": "L9a531d1783c5d5925ef9",
    "bank_account_id": "BQ-CCOOP",
    "statement_id": "camt-CCOOP-2026-11-A",
    "booked_on": "2026-11-03",
    "value_date": "2026-11-03",
    "amount_eur": "100.00",
    "label": "COTISATION 2026",
    "counterparty_name": "RADIO GARRIGUE",
    "counterparty_iban": "FR7610278000000002001234516",
    "reference": "RF60F7YNM17J0W90JRD7X",
    "end_to_end_id": None,
    "return_reason": None,
    "allocated_eur": "100.00",
    "status": "matched",
    "allocations": [{"item": "fee:MED-02:2026", "amount_eur": "100.00", "entry_number": 196}],
}
ACCOUNT_EXAMPLE = {
    "bank_account_id": "BQ-CCOOP",
    "iban": "FR7642559000000008123456771",
    "bic": "CCOPFRPPXXX",
    "ledger_account": "512",
    "label": "Compte courant Crédit Coopératif",
    "opened_on": "2026-11-01",
    "csv_mapping": {
        "separator": ";",
        "encoding": "latin-1",
        "date_format": "%d/%m/%Y",
        "decimal": ",",
        "thousands": "\u00a0",
        "skip_lines": 1,
        "columns": {"date": 0, "label": 1, "debit": 2, "credit": 3, "reference": 4},
    },
    "statements": [
        {
            "statement_id": "camt-CCOOP-2026-11-A",
            "source": "camt053",
            "first_day": "2026-11-03",
            "closing_date": "2026-11-30",
            "opening_balance_eur": "65210.40",
            "closing_balance_eur": "69822.99",
        }
    ],
}
PROPOSAL = {
    "line": {**LINE, "allocated_eur": "0.00", "status": "unmatched", "allocations": []},
    "proposals": [
        {
            "person_id": "MED-02",
            "allocations": [{"item": "fee:MED-02:2026", "amount_eur": "100.00", "what": "fee 2026 of MED-02"}],
            "reason": "structured reference RF60F7YNM17J0W90JRD7X is that of fee 2026 of MED-02",
            "confidence": "sure",
        }
    ],
}
RECONCILIATION = {
    "coop": "cluster-numerique-sud",
    "bank_account_id": "BQ-CCOOP",
    "iban": "FR7642559000000008123456771",
    "ledger_account": "512",
    "on": "2026-12-05",
    "statement_id": "csv-786a2e74a3d95050a47343a7",
    "statement_date": "2026-12-02",
    "bank_balance_eur": "69822.99",
    "ledger_balance_eur": "69822.99",
    "difference_eur": "0.00",
    "since": "2026-11-03",
    # Bank charges the treasurer booked by hand: the same amount on both sides, not tied yet (LinkBankLine).
    "unmatched_bank_lines": [
        {
            **LINE,
            "line_id": "L0c4e2b9a7d1f3e5a6b8c",
            "statement_id": "csv-786a2e74a3d95050a47343a7",
            "booked_on": "2026-11-30",
            "value_date": None,
            "amount_eur": "-45.60",
            "label": "FRAIS TENUE DE COMPTE",
            "counterparty_name": None,
            "counterparty_iban": None,
            "reference": None,
            "allocated_eur": "0.00",
            "status": "unmatched",
            "allocations": [],
            "candidate_entries": [204],
        }
    ],
    "unmatched_ledger_movements": [
        {"effective_date": "2026-11-30", "entry_number": 204, "label": "Frais bancaires novembre", "amount_eur": "-45.60"}
    ],
}
OPEN_ITEM = {
    "item": "fee:IND-01:2026",
    "kind": "fee",
    "person_id": "IND-01",
    "open_eur": "100.00",
    "since": "2026-01-15",
    "what": "fee 2026 of IND-01",
    "reference": "RF21F73I3OA6GU26BZ73Z",
}
IMPORTED = [
    {
        "accepted": True,
        "coop": "cluster-numerique-sud",
        "command": "ImportBankStatement",
        "idempotency_key": "bank-2026-11-a-1",
        "position": 3512,
        "journal_numbers": [],
        "events": ["BankStatementImported"],
        "duplicate": False,
        "report": {
            "kind": "statement_import",
            "statement_id": "camt-CCOOP-2026-11-A",
            "lines": 3,
            "new_lines": 3,
            "already_known": 0,
            "recorded": True,
            "message": None,
        },
    }
]


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}", tags=["bank"], dependencies=[Depends(fresh)], responses=PROBLEM_RESPONSES)

    @r.get(
        "/bank-accounts",
        summary="The cooperative's bank accounts and their statements",
        response_model=list[answers.BankAccount],
        responses=ok([ACCOUNT_EXAMPLE]),
    )
    def get_accounts(
        coop: str, _who: Principal = Depends(reader("bank")), svc: Services = Depends(services)
    ) -> list[dict[str, Any]]:
        return [answers.bank_account(row) for row in bank_accounts(svc.ledger, coop)]

    @r.get(
        "/open-items",
        summary="What members and advertisers still owe, with each item's RF reference",
        response_model=list[answers.OpenItem],
        responses=ok([OPEN_ITEM]),
    )
    def get_open_items(
        coop: str, _who: Principal = Depends(reader("bank")), svc: Services = Depends(services)
    ) -> list[dict[str, Any]]:
        return [answers.open_item(row) for row in open_items_read(svc.ledger, coop)]

    @r.get(
        "/bank-accounts/{bank_account_id}/lines",
        summary="The account's bank lines and their matches",
        response_model=list[answers.BankLine],
        responses=ok([LINE]),
    )
    def get_lines(
        coop: str,
        bank_account_id: str = ACCOUNT,
        unmatched: bool = Query(False, description="Only the lines not fully matched"),
        _who: Principal = Depends(reader("bank")),
        svc: Services = Depends(services),
    ) -> list[dict[str, Any]]:
        return [answers.bank_line(view) for view in bank_lines(svc.ledger, coop, bank_account_id, unmatched_only=unmatched)]

    @r.get(
        "/bank-accounts/{bank_account_id}/proposals",
        summary="For each credit line not matched: what it may pay, why, and how sure",
        response_model=list[answers.BankLineProposals],
        responses=ok([PROPOSAL]),
    )
    def get_proposals(
        coop: str, bank_account_id: str = ACCOUNT, _who: Principal = Depends(reader("bank")), svc: Services = Depends(services)
    ) -> list[dict[str, Any]]:
        return [answers.line_proposals(row) for row in bank_proposals(svc.ledger, coop, bank_account_id)]

    @r.get(
        "/bank-accounts/{bank_account_id}/reconciliation",
        summary="The bank's balance beside the books' on a date, and what is not matched on either side",
        response_model=answers.BankReconciliation,
        responses=ok(RECONCILIATION),
    )
    def get_reconciliation(
        coop: str,
        bank_account_id: str = ACCOUNT,
        on: date = Query(..., description="The date, YYYY-MM-DD"),
        _who: Principal = Depends(reader("bank")),
        svc: Services = Depends(services),
        db: Database = Depends(views),
    ) -> dict[str, Any]:
        return answers.reconciliation(bank_reconciliation(svc.ledger, db, coop, bank_account_id, on))

    _import_route(r)
    document_access(r.routes)
    return r


def _import_route(r: APIRouter) -> None:
    @r.post(
        "/bank-accounts/{bank_account_id}/statements",
        status_code=201,
        summary="Import a statement file: CAMT.053 (application/xml), OFX (application/x-ofx) or CSV (text/csv)",
        response_model=list[AcceptedCommand],
        responses={**ok(IMPORTED, 201), 415: UNSUPPORTED_MEDIA},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    media: {"schema": {"type": "string"}, "example": ""} for media in sorted(set(CONTENT_TYPES.values()))
                },
            }
        },
    )
    async def import_statement(
        coop: str,
        request: Request,
        response: Response,
        bank_account_id: str = ACCOUNT,
        idempotency_key: str = Header(
            ..., alias="Idempotency-Key", min_length=1, max_length=180, json_schema_extra={"pattern": r"^[\x21-\x7e]{1,180}$"}
        ),
        who: Principal = Depends(commander("ImportBankStatement")),
        svc: Services = Depends(services),
    ) -> Any:
        """Each line is recorded once, however often the file comes: the report says how many were new.
        A file with several statements (CAMT) records one command each, keyed `<Idempotency-Key>-<n>`."""
        media = (request.headers.get("content-type") or "").partition(";")[0].strip().lower()
        if media not in FORMAT_OF:
            raise ApiError(
                415, "Unsupported Media Type", f"send the file as one of {', '.join(FORMAT_OF)}", rule="statement_media"
            )
        data = b""
        async for chunk in request.stream():  # bounded: the API's body limit (api/limits.py) is below MAX_FILE_BYTES
            data += chunk
            if len(data) > MAX_FILE_BYTES:
                raise ApiError(
                    413, "Payload Too Large", f"a statement file is at most {MAX_FILE_BYTES} bytes", rule="max_file_size"
                )
        coop_state = cooperative_state(svc.ledger, coop)  # NotFound (404) for a cooperative that does not exist
        account = bank_state(coop_state).account(bank_account_id)
        commands = read_statements(data, FORMAT_OF[media], coop, account)
        results = []
        for i, command in enumerate(commands, start=1):
            # Awaited, as the command routes' (docs/decisions/0019-commands-awaited-on-the-loop.md): a blocking
            # call here would hold the event loop, which answers every other command, for each line's save.
            result = await svc.ledger.execute_async(command, f"{idempotency_key}-{i}", who.actor, caller=client_of(request))
            if not result.accepted:
                assert result.error is not None
                return domain_problem(result.error)
            request.state.position = result.position
            results.append(result_answer(result.as_dict()))
        return results
