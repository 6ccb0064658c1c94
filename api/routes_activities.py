"""Queries on the activity families: certifications valid on a date, calls for projects and the
cooperation fund, subsidies, sensor hosts' credits, shared-employee hours per structure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.answers import activities as answers
from api.deps import document_access, fresh, reader, views
from api.errors import PROBLEM_RESPONSES
from api.keys import Principal
from api.read_examples import read
from api.schemas import IsoDate
from ledger.db import Database
from projections.certifications import certified_on
from projections.grants import calls_for_projects, cooperation_fund
from projections.sensors import credits_summary, host_credit_balances
from projections.shared_hours import hours_by_structure
from projections.subsidies import subsidies_overview


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/coops/{coop}", tags=["activities"], dependencies=[Depends(fresh)], responses=PROBLEM_RESPONSES)
    _certification_and_grant_routes(r)
    _sensor_and_hours_routes(r)
    document_access(r.routes)  # x-roles in the OpenAPI document
    return r


def _certification_and_grant_routes(r: APIRouter) -> None:
    """Certifications on a date, calls for projects, the cooperation fund, subsidies."""

    @r.get(
        "/certifications",
        summary="Providers certified on a date, with their expiry",
        response_model=answers.CertifiedProviders,
        responses=read("certified"),
    )
    def get_certified(
        coop: str,
        on: Annotated[IsoDate, Query(description="Date YYYY-MM-DD.")],
        _who: Principal = Depends(reader("standing")),
        db: Database = Depends(views),
    ) -> answers.CertifiedProviders:
        return answers.certified_providers(coop, on.isoformat(), certified_on(db, coop, on))

    @r.get(
        "/calls",
        summary="Calls for projects: envelope, awarded, paid, remaining, laureates",
        response_model=answers.CallsForProjects,
        responses=read("calls"),
    )
    def get_calls(
        coop: str,
        include_closed: bool = Query(False),
        after: str = Query("", max_length=64),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.CallsForProjects:
        calls = calls_for_projects(db, coop, include_closed=include_closed, after=after, limit=limit)
        return answers.calls_for_projects(coop, calls)

    @r.get(
        "/cooperation-fund",
        summary="Cooperation fund: balance, committed and available",
        response_model=answers.CooperationFund,
        responses=read("fund"),
    )
    def get_fund(
        coop: str,
        as_of: IsoDate | None = Query(None, description="Inclusive date YYYY-MM-DD."),
        _who: Principal = Depends(reader("balances")),
        db: Database = Depends(views),
    ) -> answers.CooperationFund:
        return answers.cooperation_fund(cooperation_fund(db, coop, as_of=as_of))

    @r.get(
        "/subsidies",
        summary="Subsidies granted, received, used and still available",
        response_model=answers.Subsidies,
        responses=read("subsidies"),
    )
    def get_subsidies(
        coop: str,
        as_of: IsoDate | None = Query(None, description="Inclusive date YYYY-MM-DD."),
        after: str = Query("", max_length=64),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.Subsidies:
        return answers.subsidies(coop, subsidies_overview(db, coop, as_of=as_of, after=after, limit=limit))


def _sensor_and_hours_routes(r: APIRouter) -> None:
    """Sensor hosts' credits, shared-employee hours."""

    @r.get(
        "/sensors/credits",
        summary="Sensor hosts' credit balances and the network's totals (credits, and euros paid)",
        response_model=answers.SensorCredits,
        responses=read("credits"),
    )
    def get_credits(
        coop: str, _who: Principal = Depends(reader("balances")), db: Database = Depends(views)
    ) -> answers.SensorCredits:
        return answers.sensor_credits(coop, host_credit_balances(db, coop), credits_summary(db, coop))

    @r.get(
        "/shared-hours",
        summary="Shared-employee hours logged and rebilled per structure (hours, and euros billed)",
        response_model=answers.SharedHours,
        responses=read("hours"),
    )
    def get_hours(
        coop: str,
        period: str | None = Query(None, pattern=r"^[0-9]{4}-[0-9]{2}$", description="Month YYYY-MM."),
        _who: Principal = Depends(reader("activities")),
        db: Database = Depends(views),
    ) -> answers.SharedHours:
        return answers.shared_hours(coop, period, hours_by_structure(db, coop, period=period))
