"""Queries out: balances, statements, the journal, members' standing, governance. Each reads a
projection; each accepts min_position to read your own writes."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api.answers import queries as answers
from api.deps import document_access, fresh, reader, services, views
from api.errors import PROBLEM_RESPONSES, ApiError
from api.explain_text import with_texts
from api.keys import Principal
from api.lean_route import LeanRoute
from api.read_examples import read
from api.responses import Answer
from api.schemas import IsoDate
from api.wire import UnitCode, amount
from ledger.db import Database
from projections.balances import (
    balance_if_known,
    checked_balance,
    checked_balance_statement,
    trial_balance_from_rows,
    trial_balance_statement,
)
from projections.governance import explain_member, governance_statement, resolution_tally, weights_from_rows
from projections.journal import checked_statement, has_entries_after, journal_page, statement_if_known, statement_query
from projections.lookups import require_member
from projections.registry import cooperative_summary, member_standing

AS_OF = Query(None, description="Inclusive date YYYY-MM-DD (default: everything recorded).")
UNIT = Query("EUR", description="The unit read: EUR, CREDIT (reward credits) or HOUR (shared hours).")
# Rows of the governance statement (about four per member) past which its answer is computed in a
# worker thread, not on the event loop: about a millisecond and a half of arithmetic at this size.
GOVERNANCE_LOOP_ROWS = 500


class _Unknown(Exception):
    """A statement's rows say its account or party is unknown: the 404 is looked up in a thread."""


def router() -> APIRouter:
    # LeanRoute: the Answer routes' dependencies solved by a plan made once (api/lean_route.py).
    r = APIRouter(
        prefix="/v1/coops/{coop}",
        tags=["queries"],
        dependencies=[Depends(fresh)],
        responses=PROBLEM_RESPONSES,
        route_class=LeanRoute,
    )
    _book_routes(r)
    _account_routes(r)
    _statement_route(r)
    _journal_route(r)
    _member_routes(r)
    _governance_routes(r)
    document_access(r.routes)  # x-roles in the OpenAPI document
    return r


def _book_routes(r: APIRouter) -> None:
    """The cooperative and its trial balance."""

    @r.get(
        "",
        summary="The cooperative: legal form, colleges, fee schedule, counts",
        responses=read("coop_summary"),
        response_model=answers.CoopSummary,
    )
    def coop_summary(coop: str, _who: Principal = Depends(reader("standing")), db: Database = Depends(views)) -> dict[str, Any]:
        summary = cooperative_summary(db, coop)
        if summary is None:
            raise ApiError(404, "Not found", f"no cooperative {coop!r}", field="coop", rule="known_cooperative")
        return answers.coop_summary(summary)

    @r.get(
        "/trial-balance",
        summary="Debit, credit and balance per account and unit, as of a date",
        responses=read("trial_balance"),
        response_model=answers.TrialBalance,
        response_class=Answer,
    )
    async def get_trial_balance(
        request: Request,
        coop: str,
        as_of: IsoDate | None = AS_OF,
        _who: Principal = Depends(reader("balances")),
        db: Database = Depends(views),
    ) -> Answer:
        # One statement, awaited on the event loop as the balance's is (ledger/loop_reads.py).
        svc = services(request)
        rows = await svc.loop_reads.query(db, *trial_balance_statement(coop, as_of=as_of))  # type: ignore[union-attr]

        def make() -> bytes:
            return orjson.dumps(answers.trial_balance(trial_balance_from_rows(coop, rows, as_of=as_of)))

        # A pure function of these rows (a few dozen): remembered by them, never stale (api/answer_memo.py).
        return Answer(svc.answers.answer((coop, as_of.isoformat() if as_of else None), rows, make))


def _account_routes(r: APIRouter) -> None:
    """An account's balance, or one party's on it."""

    @r.get(
        "/accounts/{account}/balance",
        summary="Balance of an account, or of one party on it, as of a date",
        responses=read("balance"),
        response_model=answers.AccountBalance,
        response_class=Answer,
    )
    async def get_balance(
        request: Request,
        coop: str,
        account: str,
        party: str | None = Query(None, max_length=64),
        unit: UnitCode = UNIT,
        as_of: IsoDate | None = AS_OF,
        _who: Principal = Depends(reader("balances")),
        db: Database = Depends(views),
    ) -> Answer:
        # A mistyped account or party is a 404 naming what exists, checked in the balance's own statement,
        # awaited on the event loop (ledger/loop_reads.py): the most frequent read takes no thread.
        statement_sql, params = checked_balance_statement(coop, account, party=party, unit=unit, as_of=as_of)
        balance = balance_if_known(await services(request).loop_reads.query(db, statement_sql, params))  # type: ignore[union-attr]
        if balance is None:  # unknown: the 404 names what exists (read in a thread, rare)
            balance = await run_in_threadpool(checked_balance, db, coop, account, party=party, unit=unit, as_of=as_of)
        return Answer(
            {
                "coop": coop,
                "account": account,
                "party": party,
                "unit": unit,
                "as_of": as_of.isoformat() if as_of else None,
                "balance": amount(balance, unit),
            }
        )


def _statement_route(r: APIRouter) -> None:
    """An account's statement, or one party's on it, paged by line."""

    @r.get(
        "/accounts/{account}/statement",
        summary="Movements with running balance, paged by line",
        responses=read("statement"),
        response_model=answers.AccountStatement,
        response_class=Answer,
    )
    async def get_statement(
        request: Request,
        coop: str,
        account: str,
        party: str | None = Query(None, max_length=64),
        unit: UnitCode = UNIT,
        as_of: IsoDate | None = AS_OF,
        after_line: int = Query(0, ge=0, le=10**9),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("journal")),
        db: Database = Depends(views),
    ) -> Answer:
        # One statement awaited on the event loop (ledger/loop_reads.py), as the balance's: the database
        # cuts the page and sums the running balance, so only the page's rows come back however long
        # the account; the account and party checks ride in it (a 404 naming what exists, not an
        # empty statement).
        svc = services(request)
        found = statement_query(coop, account, party=party, unit=unit, as_of=as_of, after_line=after_line, limit=limit)
        rows = await svc.loop_reads.query(db, *found)  # type: ignore[union-attr]

        def make() -> bytes:
            report = statement_if_known(coop, account, rows, party=party, unit=unit, as_of=as_of)
            if report is None:  # raised, so not remembered
                raise _Unknown
            return orjson.dumps(answers.statement(report))

        try:  # a pure function of these rows and the request: remembered by them, never stale (api/answer_memo.py)
            inputs = (coop, account, party, unit, as_of.isoformat() if as_of else None, after_line, limit)
            return Answer(svc.answers.answer(inputs, rows, make))
        except _Unknown:  # unknown: the 404 names what exists (read in a thread, rare)
            report = await run_in_threadpool(
                checked_statement, db, coop, account, party=party, unit=unit, as_of=as_of, after_line=after_line, limit=limit
            )
            return Answer(answers.statement(report))


def _journal_route(r: APIRouter) -> None:
    """The journal, paged by entry number."""

    @r.get(
        "/journal",
        summary="Entries numbered after a position (cursor), each with its postings",
        responses=read("journal"),
        response_model=answers.JournalPage,
    )
    def get_journal(
        coop: str,
        after: int = Query(0, ge=0, le=2**62, description="Last entry number already read."),
        limit: int = Query(100, ge=1, le=1000),
        _who: Principal = Depends(reader("journal")),
        db: Database = Depends(views),
    ) -> dict[str, Any]:
        entries = journal_page(db, coop, after=after, limit=limit)
        next_after = entries[-1]["number"] if entries else after
        # `more`: another page follows now (as the feed says); false means every entry so far was read.
        more = len(entries) == limit and has_entries_after(db, coop, next_after)
        return {"coop": coop, "entries": answers.journal_entries(entries), "next_after": next_after, "more": more}


def _member_routes(r: APIRouter) -> None:
    """Members and their fee standing for a year."""

    @r.get(
        "/members",
        summary="Members with college, status, shares and a year's fee standing",
        responses=read("members"),
        response_model=answers.MemberList,
    )
    def get_members(
        coop: str,
        year: int = Query(..., ge=1901, le=2199),
        _who: Principal = Depends(reader("members")),
        db: Database = Depends(views),
    ) -> dict[str, Any]:
        return {"coop": coop, "year": year, "members": [answers.standing(row) for row in member_standing(db, coop, year)]}

    @r.get(
        "/members/{member_id}/standing",
        summary="Whether a member's fee for a year is fully paid",
        responses=read("standing"),
        response_model=answers.MemberStanding,
    )
    def get_standing(
        coop: str,
        member_id: str,
        year: int = Query(..., ge=1901, le=2199),
        _who: Principal = Depends(reader("standing")),
        db: Database = Depends(views),
    ) -> dict[str, Any]:
        for row in member_standing(db, coop, year):
            if row["member_id"] == member_id:
                return {k: v for k, v in answers.standing(row).items() if k in answers.MemberStanding.model_fields}
        raise ApiError(404, "Not found", f"no member {member_id!r} in {coop}", field="member_id", rule="known_member")


def _governance_routes(r: APIRouter) -> None:
    """Weights as of a date, why a member may vote or not, a general assembly's tally."""

    @r.get(
        "/governance",
        summary="College and member weights as of a date (exact fractions of 100)",
        responses=read("governance"),
        response_model=answers.GovernanceWeights,
        response_class=Answer,
    )
    async def get_governance(
        request: Request,
        coop: str,
        as_of: Annotated[IsoDate, Query(description="Date YYYY-MM-DD.")],
        _who: Principal = Depends(reader("governance")),
        db: Database = Depends(views),
    ) -> Answer:
        # One statement (one snapshot), awaited on the event loop as the balance's is (ledger/loop_reads.py).
        svc = services(request)
        rows = await svc.loop_reads.query(db, *governance_statement(coop, as_of))  # type: ignore[union-attr]

        def make() -> bytes:
            report = weights_from_rows(coop, as_of, rows)
            if report is None:  # raised, so not remembered
                raise ApiError(404, "Not found", f"no cooperative {coop!r}", field="coop", rule="known_cooperative")
            return orjson.dumps(answers.governance(report))

        # The answer is a pure function of these rows: remembered by them, never stale (api/answer_memo.py).
        inputs = (coop, as_of.isoformat())
        if len(rows) > GOVERNANCE_LOOP_ROWS:  # a large cooperative: its arithmetic would hold the loop, so a thread
            return Answer(await run_in_threadpool(svc.answers.answer, inputs, rows, make))
        return Answer(svc.answers.answer(inputs, rows, make))

    @r.get(
        "/governance/members/{member_id}",
        summary="May this member vote on that date, and why",
        responses=read("explanation"),
        response_model=answers.VoteEligibility,
    )
    def get_explanation(
        coop: str,
        member_id: str,
        as_of: Annotated[IsoDate, Query(description="Date YYYY-MM-DD.")],
        _who: Principal = Depends(reader("governance")),
        db: Database = Depends(views),
    ) -> dict[str, Any]:
        require_member(db, coop, member_id)
        report = explain_member(db, coop, member_id, as_of)
        if report is None:
            raise ApiError(
                404, "Not found", f"{coop!r} unknown or not founded on {as_of}", field="coop", rule="known_cooperative"
            )
        return with_texts(report)

    @r.get(
        "/resolutions/{resolution_id}/tally",
        summary="General-assembly tally by college, weighted",
        responses=read("tally"),
        response_model=answers.Tally,
    )
    def get_tally(
        coop: str, resolution_id: str, _who: Principal = Depends(reader("governance")), db: Database = Depends(views)
    ) -> dict[str, Any]:
        report = resolution_tally(db, coop, resolution_id)
        if report is None:
            raise ApiError(
                404, "Not found", f"no resolution {resolution_id!r} in {coop}", field="resolution_id", rule="known_resolution"
            )
        return report
