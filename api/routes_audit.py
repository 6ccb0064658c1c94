"""What an auditor reads: the hash chain's head and the heads sealed at each closing, the fiscal
years, and the audit trail (who recorded what, when, under which key, why). Role kind "audit"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from api.answers import audit as answers
from api.deps import Services, document_access, fresh, reader, services, views
from api.errors import PROBLEM_RESPONSES, ApiError
from api.examples import ok, problem
from api.keys import Principal
from api.read_examples import VERIFY, read
from api.schemas import IsoDate
from ledger.db import Database
from ledger.heads import Head
from ledger.verify import verify_store
from projections.audit_trail import DATE_FIELDS, MAX_PAGE, audit_trail
from projections.closing import chain_head, fiscal_years
from projections.registry import cooperative_summary

HEAD_PATTERN = r"^\s*0*[1-9][0-9]*:[0-9a-fA-F]{64}\s*$"  # what Head.parse reads


def _known(db: Database, coop: str) -> None:
    if cooperative_summary(db, coop) is None:
        raise ApiError(404, "Not found", f"no cooperative {coop!r}", field="coop", rule="known_cooperative")


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}", tags=["audit"], dependencies=[Depends(fresh)], responses=PROBLEM_RESPONSES)
    _chain_routes(r)
    _trail_route(r)
    document_access(r.routes)  # x-roles in the OpenAPI document
    return r


def _chain_routes(r: APIRouter) -> None:
    """The chain's head, a verification of the stored events, the fiscal years and their sealed heads."""

    @r.get(
        "/chain",
        summary="The hash chain's head (last entry number and hash) and the heads sealed at each closing",
        responses=read("chain"),
        response_model=answers.ChainHead,
    )
    def get_chain(coop: str, _who: Principal = Depends(reader("audit")), db: Database = Depends(views)) -> dict[str, Any]:
        _known(db, coop)
        return chain_head(db, coop)

    @r.get(
        "/verify",
        summary="Recompute the cooperative's chains from the stored events; with head=N:HASH, check a head kept "
        "outside the store",
        responses=ok(VERIFY),
        response_model=answers.Verification,
    )
    def get_verify(
        coop: str,
        head: str | None = Query(
            None,
            max_length=80,
            # Documented, not enforced here: ledger.heads.Head.parse answers its own rule (head_format).
            json_schema_extra={"pattern": HEAD_PATTERN},
            description="A head kept outside the store (N:HASH, from a closing or "
            "an assembly's minutes): is it still in this store?",
        ),
        _who: Principal = Depends(reader("audit")),
        svc: Services = Depends(services),
    ) -> dict[str, Any]:
        """`ok` false names the first broken event, or says the head is not in the store: an answer about the books,
        not an error of the request (the command line's `coopledger verify` exits 1 on the same finding)."""
        _known(svc.ledger.db, coop)  # verify reads the events, on the primary
        try:
            expected = Head.parse(head) if head is not None else None
        except ValueError as exc:
            raise ApiError(422, "Invalid query", str(exc), field="head", rule="head_format") from None
        (report,) = verify_store(svc.ledger, coop, expected_head=expected)
        return report.as_dict()

    @r.get(
        "/fiscal-years",
        summary="Fiscal years holding entries: open or closed, result and sealed head",
        responses=read("fiscal_years"),
        response_model=answers.FiscalYears,
    )
    def get_fiscal_years(coop: str, _who: Principal = Depends(reader("audit")), db: Database = Depends(views)) -> dict[str, Any]:
        _known(db, coop)
        return {"coop": coop, "fiscal_years": [answers.fiscal_year(row) for row in fiscal_years(db, coop)]}


def _trail_route(r: APIRouter) -> None:
    """GET /audit-trail: who recorded what, when, under which key, why."""

    @r.get(
        "/audit-trail",
        summary="Every event with who, when, idempotency key and reason; filtered, paged by position",
        responses={
            **read("audit_trail"),
            **problem(
                422,
                "Invalid query",
                "'to' (2025-01-31) is before 'from' (2025-03-01)",
                "to",
                "date_range",
                "Invalid filter: the problem names the query field",
            ),
        },
        response_model=answers.AuditTrail,
    )
    def get_audit_trail(
        coop: str,
        date_from: IsoDate | None = Query(None, alias="from", description="First day, inclusive (YYYY-MM-DD)."),
        date_to: IsoDate | None = Query(None, alias="to", description="Last day, inclusive (YYYY-MM-DD)."),
        date_field: str = Query(
            "recorded",
            pattern="^(recorded|effective)$",
            description=f"Which date from/to filter: one of {', '.join(DATE_FIELDS)} (recorded time is UTC).",
        ),
        actor: str | None = Query(None, max_length=200, description="Only this actor (e.g. key:0123456789ab, cli)."),
        account: str | None = Query(None, max_length=10, description="Only entries with a posting on this account."),
        kind: str | None = Query(None, max_length=100, description="Only this event kind (e.g. EntryReversed)."),
        after: int = Query(0, ge=0, le=2**62, description="Last position already read (the previous page's next_after)."),
        limit: int = Query(100, ge=1, le=MAX_PAGE),
        _who: Principal = Depends(reader("audit")),
        db: Database = Depends(views),
    ) -> dict[str, Any]:
        _known(db, coop)
        if date_from is not None and date_to is not None and date_to < date_from:
            raise ApiError(
                422, "Invalid query", f"'to' ({date_to}) is before 'from' ({date_from})", field="to", rule="date_range"
            )
        return audit_trail(
            db,
            coop,
            date_from=date_from,
            date_to=date_to,
            date_field=date_field,
            actor=actor,
            account=account,
            kind=kind,
            after=after,
            limit=limit,
        )
