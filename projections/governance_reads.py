"""Governance as of any date, read from the rows projections/governance.py writes: college and
member weights, a member's right to vote and why, and general-assembly tallies. The answers are
computed by the domain's pure functions, the same ones the write side uses to refuse ineligible
votes."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from fractions import Fraction
from typing import Any

from domain.accounts import LegalForm
from domain.voting import Eligibility, college_policy, college_weights, eligibility, tally
from ledger.db import Database
from projections.closing import views_head


def _fiscal_year(day: date, start_month: int) -> int:
    return day.year if day.month >= start_month else day.year - 1


# What governance reads about a cooperative as of a day, in one statement (so one snapshot, one
# round trip, awaited on the event loop by the API: ledger/loop_reads.py). Each part is tagged by
# its first column, KINDS below; the parts' columns differ, so every value is sent as text (the
# dialects agree on it) and each part keeps its ordering in (day, seq), the 2nd and 3rd columns;
# the 4th breaks ties, so that equal rows come back in one order (the API's answer memo is keyed by them).
# The eight statements it replaces, pipelined in one snapshot, cost the client about three times its CPU.
_STATEMENT = """
SELECT 0, '', 0, legal_form, CAST(fiscal_year_start_month AS TEXT), NULL, NULL, NULL FROM governance_coops WHERE coop = ?
UNION ALL SELECT 1, '', 0, effective_date, colleges_json, CAST(weighted AS TEXT), NULL, NULL FROM (
  SELECT effective_date, colleges_json, weighted FROM governance_statutes WHERE coop = ? AND effective_date <= ?
  ORDER BY effective_date DESC, seq DESC LIMIT 1) AS statutes
UNION ALL SELECT 2, '', 0, effective_date, CAST(require_fee_paid AS TEXT), CAST(min_shares AS TEXT), empty_college_policy, NULL
  FROM (SELECT effective_date, require_fee_paid, min_shares, empty_college_policy FROM governance_policies
  WHERE coop = ? AND effective_date <= ? ORDER BY effective_date DESC, seq DESC LIMIT 1) AS policies
UNION ALL SELECT 3, '', 0, member_id, name, admitted_on, left_on, left_as FROM governance_members WHERE coop = ?
UNION ALL SELECT 4, effective_date, seq, member_id, college, NULL, NULL, NULL FROM governance_member_colleges
  WHERE coop = ? AND effective_date <= ?
UNION ALL SELECT 5, '', 0, member_id, CAST(SUM(shares) AS TEXT), NULL, NULL, NULL FROM governance_share_moves
  WHERE coop = ? AND effective_date <= ? GROUP BY member_id
UNION ALL SELECT 6, '', 0, member_id, CAST(SUM(called_cents) AS TEXT), CAST(SUM(paid_cents) AS TEXT), NULL, NULL
  FROM governance_fee_moves WHERE coop = ? AND effective_date <= ? AND year = (SELECT CASE WHEN ? >= fiscal_year_start_month
  THEN ? ELSE ? END FROM governance_coops WHERE coop = ?) GROUP BY member_id
UNION ALL SELECT 7, effective_date, seq, college, effective_date, CAST(require_fee_paid AS TEXT), CAST(min_shares AS TEXT), NULL
  FROM governance_college_rules WHERE coop = ? AND effective_date <= ?
ORDER BY 1, 2, 3, 4"""
KINDS = ("coop", "statutes", "policy", "members", "colleges", "shares", "fees", "college_rules")


def governance_statement(coop: str, day: date) -> tuple[str, tuple[Any, ...]]:
    """The statement whose rows `snapshot_from_rows` and `weights_from_rows` read. Members admitted
    after `day` too: explain_member gives them every reason, as the write side does ("not admitted
    until ..."); they have no college on `day`, so no weight. The fee year (the fiscal year holding
    `day`, _fiscal_year) is found in SQL."""
    d = day.isoformat()
    fee_year = (day.month, day.year, day.year - 1, coop)
    return _STATEMENT, (coop, coop, d, coop, d, coop, coop, d, coop, d, coop, d, *fee_year, coop, d)


def _snapshot(db: Database, coop: str, day: date) -> dict[str, Any] | None:
    """Everything governance needs about `coop` as of `day`, read in one snapshot."""
    return snapshot_from_rows(db.query(*governance_statement(coop, day)), day)


def snapshot_from_rows(rows: list[tuple[Any, ...]], day: date) -> dict[str, Any] | None:
    """What `_snapshot` makes of the rows of `governance_statement` (read by whoever awaits them)."""
    parts: list[list[tuple[Any, ...]]] = [[] for _ in KINDS]
    for row in rows:
        parts[int(row[0])].append(row[3:])
    found, statutes, policies, members, college_rows, share_rows, fee_rows, rule_rows = parts
    if not found:
        return None
    legal_form, start_month = found[0][:2]
    if not statutes:
        return {"legal_form": LegalForm(legal_form), "statutes": None}
    policy_row = policies[0]
    college_rules: dict[str, list[dict[str, Any]]] = defaultdict(list)  # oldest first, as domain.voting.college_policy reads them
    for college, since, require_fee_paid, min_shares, _ in rule_rows:
        college_rules[college].append(
            {
                "effective_date": date.fromisoformat(since),
                "require_fee_paid": None if require_fee_paid is None else bool(int(require_fee_paid)),
                "min_shares": None if min_shares is None else int(min_shares),
            }
        )
    college_of: dict[str, str] = {}
    for member_id, college, *_ in college_rows:
        college_of[member_id] = college  # ordered by date: the last one is in force
    return {
        "legal_form": LegalForm(legal_form),
        "year": _fiscal_year(day, int(start_month)),
        "statutes": {
            "effective_date": statutes[0][0],
            "colleges": json.loads(statutes[0][1]),
            "weighted": bool(int(statutes[0][2])),
        },
        "policy": {
            "effective_date": policy_row[0],
            "require_fee_paid": bool(int(policy_row[1])),
            "min_shares": int(policy_row[2]),
            "empty_college_policy": policy_row[3],
        },
        # Sorted here, not by SQL: the same order on every store, whatever the database's collation.
        "members": sorted(members),
        "college_of": college_of,
        "college_rules": dict(college_rules),
        "shares": {m: int(s) for m, s, *_ in share_rows},
        "fees": {m: (int(c), int(p)) for m, c, p, *_ in fee_rows},
    }


def _eligibilities(snap: dict[str, Any], day: date) -> list[tuple[str, Eligibility]]:
    result = []
    # A college's own rules (SetCollegeRules) override the cooperative's, as on the write side:
    # the policy of each college that has some, merged once, not once per member.
    policies = {college: college_policy(snap["policy"], rules, day) for college, rules in snap["college_rules"].items()}
    for member_id, name, admitted_on, left_on, left_as in snap["members"]:
        called, paid = snap["fees"].get(member_id, (0, 0))
        college = snap["college_of"].get(member_id)
        policy = policies.get(college, snap["policy"]) if college else snap["policy"]
        verdict = eligibility(
            member_id=member_id,
            college=college,
            admitted_on=date.fromisoformat(admitted_on),
            left_on=date.fromisoformat(left_on) if left_on else None,
            left_as=left_as,
            fee_called_cents=called,
            fee_paid_cents=paid,
            shares=snap["shares"].get(member_id, 0),
            policy=policy,
            day=day,
            fee_year=snap["year"],
        )
        result.append((name, verdict))
    return result


def weights_as_of(db: Database, coop: str, day: date) -> dict[str, Any] | None:
    """College and member weights on `day`, exact fractions of 100 (as strings like "100/3")."""
    return weights_from_rows(coop, day, db.query(*governance_statement(coop, day)))


def weights_from_rows(coop: str, day: date, rows: list[tuple[Any, ...]]) -> dict[str, Any] | None:
    """`weights_as_of` from the rows of `governance_statement(coop, day)` (the API awaits them)."""
    snap = snapshot_from_rows(rows, day)
    if snap is None:
        return None
    if snap["statutes"] is None:
        return {"coop": coop, "as_of": day.isoformat(), "colleges": [], "members": [], "note": "before founding"}
    verdicts = _eligibilities(snap, day)
    members: dict[str, int] = defaultdict(int)
    eligible: dict[str, int] = defaultdict(int)
    for _name, v in verdicts:
        if v.reasons[1]["ok"] and v.college:  # a member on that date (admitted, not left)
            members[v.college] += 1
            if v.eligible:
                eligible[v.college] += 1
    report = college_weights(
        statutes=snap["statutes"], policy=snap["policy"], legal_form=snap["legal_form"], members=members, eligible=eligible
    )
    member_weight = {r["code"]: _fraction(r["member_weight"]) for r in report["colleges"]}  # written once per college
    voters = [
        {"member_id": v.member_id, "name": name, "college": v.college, "vote_weight": member_weight[v.college]}
        for name, v in verdicts
        if v.eligible and v.college
    ]
    # The voters' weights summed: each college's voters hold its member weight (exact fractions).
    total = sum((r["member_weight"] * r["eligible_members"] for r in report["colleges"] if r["eligible_members"]), Fraction(0))
    return {
        "coop": coop,
        "as_of": day.isoformat(),
        "legal_form": snap["legal_form"].value,
        "statutes_since": snap["statutes"]["effective_date"],
        "policy": snap["policy"],
        "fee_year": snap["year"],
        "college_rules": {
            college: {
                k: v for k, v in college_policy(snap["policy"], rules, day).items() if k in ("require_fee_paid", "min_shares")
            }
            for college, rules in sorted(snap["college_rules"].items())
        },
        "colleges": [
            {
                **r,
                "statutory_weight": _fraction(r["statutory_weight"]),
                "effective_weight": _fraction(r["effective_weight"]),
                "member_weight": _fraction(r["member_weight"]),
            }
            for r in report["colleges"]
        ],
        "unassigned_weight": _fraction(report["unassigned_weight"]),
        "flags": report["flags"],
        "voters": voters,
        "voters_total_weight": _fraction(total),
    }


def explain_member(db: Database, coop: str, member_id: str, day: date) -> dict[str, Any] | None:
    snap = _snapshot(db, coop, day)
    if snap is None or snap["statutes"] is None:
        return None
    for name, verdict in _eligibilities(snap, day):
        if verdict.member_id == member_id:
            return {"coop": coop, "as_of": day.isoformat(), "name": name, **verdict.as_dict()}
    return {
        "coop": coop,
        "as_of": day.isoformat(),
        "member_id": member_id,
        "eligible": False,
        "reasons": [{"rule": "admitted", "ok": False, "detail": f"not a member of {coop} on {day}"}],
    }


def resolution_tally(db: Database, coop: str, resolution_id: str) -> dict[str, Any] | None:
    with db.read() as tx:
        found = tx.execute(
            "SELECT title, assembly, vote_date, threshold, threshold_strict FROM resolutions"
            " WHERE coop = ? AND resolution_id = ?",
            (coop, resolution_id),
        )
        if not found:
            return None
        votes = tx.execute("SELECT college, choice FROM votes WHERE coop = ? AND resolution_id = ?", (coop, resolution_id))
        head = views_head(tx, coop)  # the event chain's head the tally was read at: for the minutes
    title, assembly, vote_date, threshold, strict = found[0]
    day = date.fromisoformat(vote_date)
    weights = weights_as_of(db, coop, day)
    assert weights is not None
    raw_weights = {
        "colleges": [{"code": c["code"], "effective_weight": Fraction(c["effective_weight"])} for c in weights["colleges"]]
    }
    result = tally(
        weights=raw_weights,
        votes=[(c, v) for c, v in votes],
        threshold=Fraction(threshold),
        strict=bool(strict),
        policy=weights["policy"],
    )
    return {
        "coop": coop,
        "resolution_id": resolution_id,
        "title": title,
        "assembly": assembly,
        "vote_date": vote_date,
        "threshold": _fraction(result["threshold"]),
        "strict": result["strict"],
        "adopted": result["adopted"],
        "result": _fraction(result["result"]),
        "result_percent": f"{float(result['result'] * 100):.2f}",
        "carried_by": result["carried_by"],
        "head": head["head"],
        "colleges": [
            {
                **r,
                "share_for": _fraction(r["share_for"]),
                "weight_used": _fraction(r["weight_used"]),
                "contribution": _fraction(r["contribution"]),
            }
            for r in result["colleges"]
        ],
    }


def _fraction(value: Fraction | None) -> str | None:
    """Exact and readable: "40", "100/3"."""
    return None if value is None else str(value)
