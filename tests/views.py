"""Read functions over views that the product keeps but does not read back: the tests' oracle for
those tables (certifications, grant applications, contribution pledges, author balances,
subscription moves, sensor reward terms and redemptions, shared employees and rebillings). They
were product functions that nothing but the tests called; a route or report that needs one moves
it back to its projection module.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction
from typing import Any

from domain.contributions import contribution_due_cents
from domain.errors import IntegrityViolation
from ledger.db import Database
from projections.certifications import _COLUMNS, _row  # the same row shape as the product's certification reads

MAX_PAGE = 1000  # as the product's read functions page


# ---------------------------------------------------------------- certifications (projections/certifications.py)


def certification_of(db: Database, coop: str, member_id: str, as_of: date) -> dict[str, Any] | None:
    """The member's certification on `as_of`, else the last one granted before it; None if
    none. `status` on that date: certified, expired or revoked. `expires_on` is the first day
    it no longer holds (renewals included), `valid_until` the last day it holds, unless it
    was revoked earlier (`ends_on`)."""
    d = as_of.isoformat()
    with db.read() as tx:
        rows = tx.execute(
            f"SELECT {_COLUMNS} FROM certifications WHERE coop = ? AND member_id = ? AND granted_on <= ?"  # noqa: S608
            # A certification revoked on the day it was granted may share that day with the next one.
            " ORDER BY granted_on DESC, COALESCE(revoked_on, expires_on) DESC LIMIT 1",
            (coop, member_id, d),
        )
    if not rows:
        return None
    cert = _row(coop, rows[0])
    if cert["revoked_on"] and cert["revoked_on"] <= d:
        cert["status"] = "revoked"
    else:
        cert["status"] = "certified" if d < cert["expires_on"] else "expired"
    return cert


# ---------------------------------------------------------------- contributions (projections/contributions.py)


def contribution_pledges(db: Database, coop: str, *, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """Pledges by pledge_id after `after`, each with its declared years (at most 10) and totals."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.read() as tx:
        pledges = tx.execute(
            "SELECT pledge_id, member_id, rate_percent, first_year, years, pledged_on FROM contribution_pledges"
            " WHERE coop = ? AND pledge_id > ? ORDER BY pledge_id LIMIT ?",
            (coop, after, limit),
        )
        last = pledges[-1][0] if pledges else after
        years = tx.execute(
            "SELECT pledge_id, year, result_cents, called_cents, paid_cents, declared_on FROM contribution_years"
            " WHERE coop = ? AND pledge_id > ? AND pledge_id <= ? ORDER BY pledge_id, year",
            (coop, after, last),
        )
    by_pledge: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pledge_id, year, result, called, paid, declared_on in years:
        by_pledge[pledge_id].append(
            {
                "year": int(year),
                "result_cents": int(result),
                "called_cents": int(called),
                "paid_cents": int(paid),
                "due_cents": int(called) - int(paid),
                "declared_on": declared_on,
            }
        )
    result = []
    for pledge_id, member_id, rate, first_year, n_years, pledged_on in pledges:
        declared = by_pledge[pledge_id]
        for y in declared:  # cheap: the rounding rule, checked again on read
            if (
                y["called_cents"] != contribution_due_cents(Fraction(rate), y["result_cents"])
                or not 0 <= y["paid_cents"] <= y["called_cents"]
            ):
                raise IntegrityViolation(f"{coop}: pledge {pledge_id} year {y['year']} breaks the contribution rules")
        result.append(
            {
                "coop": coop,
                "pledge_id": pledge_id,
                "member_id": member_id,
                "rate_percent": rate,
                "first_year": int(first_year),
                "last_year": int(first_year) + int(n_years) - 1,
                "pledged_on": pledged_on,
                "years": declared,
                "called_cents": sum(y["called_cents"] for y in declared),
                "paid_cents": sum(y["paid_cents"] for y in declared),
            }
        )
    return result


# ---------------------------------------------------------------- grants (projections/grants.py)


def call_applications(db: Database, coop: str, call_id: str, *, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    """A call's applications by application_id after `after`, with their grant figures."""
    limit = max(1, min(limit, MAX_PAGE))
    with db.read() as tx:
        rows = tx.execute(
            "SELECT application_id, applicant, member_id, project, applied_on, awarded_cents, withdrawn_cents, paid_cents,"
            " awarded_on FROM grant_applications WHERE coop = ? AND call_id = ? AND application_id > ?"
            " ORDER BY application_id LIMIT ?",
            (coop, call_id, after, limit),
        )
    return [
        {
            "coop": coop,
            "call_id": call_id,
            "application_id": app_id,
            "applicant": applicant,
            "member_id": member_id,
            "project": project,
            "applied_on": applied_on,
            "awarded_cents": int(awarded),
            "withdrawn_cents": int(withdrawn),
            "paid_cents": int(paid),
            "net_awarded_cents": int(awarded) - int(withdrawn),
            "outstanding_cents": int(awarded) - int(withdrawn) - int(paid),
            "awarded_on": awarded_on,
        }
        for app_id, applicant, member_id, project, applied_on, awarded, withdrawn, paid, awarded_on in rows
    ]


# ---------------------------------------------------------------- levy (projections/levy.py)


def courses(db: Database, coop: str) -> list[dict[str, Any]]:
    """Each course with its author, levy rate and totals: collected = levy + author's share."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT course_id, title, author_id, levy_rate, declared_on, contributions, collected_cents, levy_cents, "
            "author_share_cents"
            " FROM courses WHERE coop = ? ORDER BY course_id",
            (coop,),
        )
    result = []
    for course_id, title, author_id, rate, declared_on, count, collected, levy, share in rows:
        if levy + share != collected or min(count, levy, share) < 0:
            raise IntegrityViolation(f"{coop} course {course_id}: levy {levy} + share {share} != collected {collected}")
        result.append(
            {
                "coop": coop,
                "course_id": course_id,
                "title": title,
                "author_id": author_id,
                "levy_rate": rate,
                "declared_on": declared_on,
                "contributions": int(count),
                "collected_cents": int(collected),
                "levy_cents": int(levy),
                "author_share_cents": int(share),
            }
        )
    return result


def author_balances(db: Database, coop: str, *, as_of: date | None = None) -> list[dict[str, Any]]:
    """Per author: shares earned, paid out and still owed as of a date (inclusive, by effective
    dates). Payouts never exceed what is owed on their date or later, so owed is never negative.
    Authors with no course here are listed too: a federation carries what a founder owed them."""
    day = (as_of or date.max).isoformat()
    with db.read() as tx:
        rows = tx.execute(
            "SELECT c.author_id, COALESCE(SUM(m.author_share_cents), 0), COALESCE(SUM(m.paid_out_cents), 0)"
            " FROM (SELECT author_id FROM courses WHERE coop = ? UNION SELECT author_id FROM levy_moves WHERE coop = ?) c"
            " LEFT JOIN levy_moves m ON m.coop = ? AND m.author_id = c.author_id AND m.day <= ?"
            " GROUP BY c.author_id ORDER BY c.author_id",
            (coop, coop, coop, day),
        )
    result = []
    for author_id, earned, paid in rows:
        earned, paid = int(earned), int(paid)
        if not 0 <= paid <= earned:
            raise IntegrityViolation(f"{coop}: author {author_id} paid {paid} of {earned} earned as of {day}")
        result.append(
            {"coop": coop, "author_id": author_id, "earned_cents": earned, "paid_out_cents": paid, "owed_cents": earned - paid}
        )
    return result


# ---------------------------------------------------------------- sensors (projections/sensors.py)


def reward_terms(db: Database, coop: str) -> list[dict[str, Any]]:
    """Every version of the reward terms, oldest first."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT effective_date, credit_rate, daily_cap_minor, money_rate, service_rate FROM sensor_terms WHERE coop = ? "
            "ORDER BY seq",
            (coop,),
        )
    return [
        {"effective_date": d, "credit_rate": rate, "daily_cap_minor": int(cap), "money_rate": money, "service_rate": service}
        for d, rate, cap, money, service in rows
    ]


def redemptions(db: Database, coop: str, *, host_id: str | None = None, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Redemptions in journal order after entry `after` (a page of at most MAX_PAGE)."""
    sql = (
        "SELECT number, host_id, kind, effective_date, credits_minor, amount_cents, service, reversed_by"
        " FROM sensor_redemptions WHERE coop = ? AND number > ?"
    )
    params: list[Any] = [coop, after]
    if host_id is not None:
        sql += " AND host_id = ?"
        params.append(host_id)
    params.append(max(1, min(limit, MAX_PAGE)))
    with db.read() as tx:
        rows = tx.execute(sql + " ORDER BY number LIMIT ?", params)
    return [
        {
            "number": int(n),
            "host_id": h,
            "kind": k,
            "effective_date": d,
            "credits_minor": int(c),
            "amount_cents": int(a),
            "service": s,
            "reversed_by": r,
        }
        for n, h, k, d, c, a, s, r in rows
    ]


# ---------------------------------------------------------------- shared_hours (projections/shared_hours.py)


def minimum_rates(db: Database, coop: str) -> list[dict[str, Any]]:
    with db.read() as tx:
        rows = tx.execute(
            "SELECT effective_date, hourly_rate_cents FROM shared_minimum_rates WHERE coop = ? ORDER BY seq", (coop,)
        )
    return [{"effective_date": d, "hourly_rate_cents": int(cents)} for d, cents in rows]


def shared_employees(db: Database, coop: str) -> list[dict[str, Any]]:
    with db.read() as tx:
        rows = tx.execute(
            "SELECT employee_id, name, hourly_pay_cents, engaged_on FROM shared_employees WHERE coop = ? ORDER BY employee_id",
            (coop,),
        )
    return [{"employee_id": i, "name": n, "hourly_pay_cents": int(p), "engaged_on": d} for i, n, p, d in rows]


def rebillings(
    db: Database, coop: str, *, employee_id: str | None = None, after: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """Rebillings in journal order after entry `after` (a page), each with its shares; asserts
    that the shares add up to the cost and to the minutes."""
    sql = (
        "SELECT number, employee_id, period, effective_date, minutes, gross_pay_cents, employer_charges_cents,"
        " expenses_cents, cost_cents, hourly_cost_rate, reversed_by FROM shared_rebills WHERE coop = ? AND number > ?"
    )
    params: list[Any] = [coop, after]
    if employee_id is not None:
        sql += " AND employee_id = ?"
        params.append(employee_id)
    params.append(max(1, min(limit, MAX_PAGE)))
    with db.read() as tx:
        heads = tx.execute(sql + " ORDER BY number LIMIT ?", params)
        lines = tx.execute(
            "SELECT number, structure_id, minutes, billed_cents FROM shared_rebill_lines WHERE coop = ? AND number > ? AND "
            "number <= ?"
            " ORDER BY number, structure_id",
            (coop, after, heads[-1][0] if heads else after),
        )
    shares: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for number, structure, minutes, cents in lines:
        shares[int(number)].append({"structure_id": structure, "minutes": int(minutes), "billed_cents": int(cents)})
    result = []
    for number, employee, period, day, minutes, gross, charges, expenses, cost, rate, reversed_by in heads:
        own = shares[int(number)]
        if sum(s["billed_cents"] for s in own) != int(cost) or sum(s["minutes"] for s in own) != int(minutes):
            raise IntegrityViolation(f"{coop}: rebilling {number} does not add up to its cost and minutes")
        result.append(
            {
                "number": int(number),
                "employee_id": employee,
                "period": period,
                "effective_date": day,
                "minutes": int(minutes),
                "gross_pay_cents": int(gross),
                "employer_charges_cents": int(charges),
                "expenses_cents": int(expenses),
                "cost_cents": int(cost),
                "hourly_cost_rate": rate,
                "reversed_by": reversed_by,
                "shares": own,
            }
        )
    return result


# ---------------------------------------------------------------- subscriptions (projections/subscriptions.py)


def plans(db: Database, coop: str) -> list[dict[str, Any]]:
    with db.read() as tx:
        rows = tx.execute(
            "SELECT plan_id, name, plan_kind, period, fixed_cents, revenue_rate, defined_on FROM subscription_plans"
            " WHERE coop = ? ORDER BY plan_id",
            (coop,),
        )
    return [
        {
            "coop": coop,
            "plan_id": p,
            "name": n,
            "kind": k,
            "period": per,
            "fixed_cents": int(f),
            "revenue_rate": r,
            "defined_on": d,
        }
        for p, n, k, per, f, r, d in rows
    ]


def subscriptions(db: Database, coop: str, member_id: str | None = None) -> list[dict[str, Any]]:
    """Each subscription with its plan and what is billed, paid and due on it now."""
    sql = (
        "SELECT s.subscription_id, s.member_id, s.plan_id, s.starts_on, s.ends_on, s.cancel_reason,"
        " COUNT(b.period), COALESCE(SUM(b.amount_cents), 0), COALESCE(SUM(b.paid_cents), 0)"
        " FROM subscriptions s LEFT JOIN subscription_bills b ON b.coop = s.coop AND b.subscription_id = s.subscription_id"
        " WHERE s.coop = ?"
    )
    params: list[Any] = [coop]
    if member_id is not None:
        sql += " AND s.member_id = ?"
        params.append(member_id)
    sql += (
        " GROUP BY s.subscription_id, s.member_id, s.plan_id, s.starts_on, s.ends_on, s.cancel_reason ORDER BY s.subscription_id"
    )
    with db.read() as tx:
        rows = tx.execute(sql, params)
    result = []
    for sid, mid, plan, starts, ends, reason, periods, billed, paid in rows:
        billed, paid = int(billed), int(paid)
        if not 0 <= paid <= billed:
            raise IntegrityViolation(f"{coop} subscription {sid}: paid {paid} outside 0..{billed}")
        result.append(
            {
                "coop": coop,
                "subscription_id": sid,
                "member_id": mid,
                "plan_id": plan,
                "starts_on": starts,
                "ends_on": ends,
                "cancel_reason": reason,
                "periods_billed": int(periods),
                "billed_cents": billed,
                "paid_cents": paid,
                "due_cents": billed - paid,
            }
        )
    return result


def bills(db: Database, coop: str, subscription_id: str) -> list[dict[str, Any]]:
    """The periods billed on a subscription, oldest first, with what is still due on each."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT period, member_id, period_start, period_end, billed_on, declared_revenue_cents, fixed_cents, "
            "revenue_share_cents,"
            " amount_cents, paid_cents FROM subscription_bills WHERE coop = ? AND subscription_id = ? ORDER BY period_start",
            (coop, subscription_id),
        )
    result = []
    for period, mid, start, end, billed_on, revenue, fixed, share, amount, paid in rows:
        if fixed + share != amount or not 0 <= paid <= amount:
            raise IntegrityViolation(f"{coop} {subscription_id} {period}: bill does not add up or is overpaid")
        result.append(
            {
                "period": period,
                "member_id": mid,
                "period_start": start,
                "period_end": end,
                "billed_on": billed_on,
                "declared_revenue_cents": revenue,
                "fixed_cents": int(fixed),
                "revenue_share_cents": int(share),
                "amount_cents": int(amount),
                "paid_cents": int(paid),
                "due_cents": int(amount - paid),
            }
        )
    return result


def amounts_owed(db: Database, coop: str, *, as_of: date | None = None) -> list[dict[str, Any]]:
    """Per member: subscriptions billed, paid and owed as of a date (inclusive, by effective dates).

    A bill reversed on a date after its payments' reversals shows, between the two dates, as a
    credit (negative owed), exactly as the member's receivable account does in the books."""
    day = (as_of or date.max).isoformat()
    with db.read() as tx:
        rows = tx.execute(
            "SELECT member_id, SUM(billed_cents), SUM(paid_cents) FROM subscription_moves WHERE coop = ? AND day <= ?"
            " GROUP BY member_id ORDER BY member_id",
            (coop, day),
        )
    result = [
        {"coop": coop, "member_id": m, "billed_cents": int(b), "paid_cents": int(p), "owed_cents": int(b) - int(p)}
        for m, b, p in rows
    ]
    if as_of is None and any(r["owed_cents"] < 0 or r["paid_cents"] < 0 for r in result):
        raise IntegrityViolation(f"{coop}: a member has paid more subscriptions than billed: {result}")
    return [r for r in result if (r["billed_cents"], r["paid_cents"]) != (0, 0)]
