"""SEPA direct debit reads: mandates (IBAN masked), batches with their items' status, and a batch's
pain.008.001.02 file for the bank (treasurers and admins: it holds the members' whole IBANs). The commands
(SetCreditorIdentifier, RecordMandate, IssueDirectDebits...) go through the generic command route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from api.answers.sepa import DirectDebitBatches, DirectDebitMandates, batch
from api.deps import Services, document_access, fresh, reader, services, views
from api.errors import PROBLEM_RESPONSES
from api.keys import Principal
from api.read_examples import read
from ledger.db import Database
from ledger.sepa_files import batch_file
from projections.sepa import batches, mandates

XML_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02">'
    "<CstmrDrctDbtInitn><GrpHdr><MsgId>PRLV-2026-1</MsgId>...</GrpHdr>...</CstmrDrctDbtInitn></Document>"
)


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}", tags=["direct debit"], dependencies=[Depends(fresh)], responses=PROBLEM_RESPONSES)

    @r.get(
        "/mandates",
        summary="SEPA mandates of the members, IBAN masked",
        response_model=DirectDebitMandates,
        responses=read("mandates"),
    )
    def get_mandates(
        coop: str,
        after: str = Query("", max_length=64),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("direct_debits")),
        db: Database = Depends(views),
    ) -> dict[str, Any]:
        return {"coop": coop, "mandates": mandates(db, coop, after=after, limit=limit)}

    @r.get(
        "/direct-debits",
        summary="Direct-debit batches, each item issued, collected or returned (with its reason)",
        response_model=DirectDebitBatches,
        responses=read("direct_debits"),
    )
    def get_batches(
        coop: str,
        after: str = Query("", max_length=64),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("direct_debits")),
        db: Database = Depends(views),
    ) -> dict[str, Any]:
        return {"coop": coop, "batches": [batch(row) for row in batches(db, coop, after=after, limit=limit)]}

    @r.get(
        "/direct-debits/{batch_id}.xml",
        summary="A batch as the pain.008.001.02 file the bank takes (validated against its XSD)",
        response_class=Response,
        responses={200: {"content": {"application/xml": {"example": XML_EXAMPLE}}, "description": "The pain.008 file"}},
    )
    def get_batch_file(
        coop: str,
        batch_id: str = Path(max_length=64),
        _who: Principal = Depends(reader("direct_debit_files")),
        svc: Services = Depends(services),
    ) -> Response:
        """Read from the events on the primary: the IBANs are opened there, never kept in a view."""
        xml = batch_file(svc.ledger, coop, batch_id)
        return Response(
            xml, media_type="application/xml", headers={"Content-Disposition": f'attachment; filename="{batch_id}.xml"'}
        )

    document_access(r.routes)
    return r
