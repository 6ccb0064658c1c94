"""The arithmetic of voting, pure: who may vote on a date, each college's weight and each
member's, and a general assembly's tally.

The write side (domain/governance.py, to refuse an ineligible vote) and the governance
projection (projections/governance.py, to answer "as of date D") call the same functions, so
the two never disagree. Weights are exact fractions of 100 (percent): no float ever enters a
weight. The rules they apply: docs/rules.md, "Voting colleges" and "General assemblies".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from domain.accounts import LegalForm

HUNDRED = Fraction(100)
CHOICES = ("for", "against", "abstain", "blank")  # only "for" and "against" are votes cast
SCIC_MIN_WEIGHT, SCIC_MAX_WEIGHT = Fraction(10), Fraction(50)


@dataclass(frozen=True)
class Eligibility:
    member_id: str
    college: str | None
    eligible: bool
    reasons: list[dict[str, Any]]  # [{"rule", "ok", "detail"}], every rule checked, in order

    def as_dict(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "college": self.college, "eligible": self.eligible, "reasons": self.reasons}


def eligibility(
    *,
    member_id: str,
    college: str | None,
    admitted_on: date,
    left_on: date | None,
    left_as: str | None,
    fee_called_cents: int,
    fee_paid_cents: int,
    shares: int,
    policy: dict[str, Any],
    day: date,
    fee_year: int,
) -> Eligibility:
    """Whether a member may vote on `day`, with every reason. Inputs are as of `day`."""
    reasons = []
    admitted = admitted_on <= day
    reasons.append(
        {
            "rule": "admitted",
            "ok": admitted,
            "detail": f"admitted on {admitted_on}" if admitted else f"not admitted until {admitted_on}",
        }
    )
    still_member = left_on is None or day < left_on
    reasons.append(
        {"rule": "not_left", "ok": still_member, "detail": "a member on that date" if still_member else f"{left_as} on {left_on}"}
    )
    if policy["require_fee_paid"]:
        paid = fee_called_cents > 0 and fee_paid_cents >= fee_called_cents
        if fee_called_cents == 0:
            detail = f"no {fee_year} fee called by {day}"
        else:
            detail = f"{fee_year} fee: {fee_paid_cents / 100:.2f} of {fee_called_cents / 100:.2f} EUR paid by {day}"
        reasons.append({"rule": "fee_paid", "ok": paid, "detail": detail})
    if policy["min_shares"]:
        enough = shares >= policy["min_shares"]
        reasons.append(
            {
                "rule": "min_shares",
                "ok": enough,
                "detail": f"holds {shares} share(s), the statutes ask for {policy['min_shares']}",
            }
        )
    return Eligibility(member_id, college, all(r["ok"] for r in reasons), reasons)


def college_policy(policy: dict[str, Any], rules: list[dict[str, Any]], day: date) -> dict[str, Any]:
    """The voting policy that applies to a college's members on `day`: the cooperative's, with
    the college's own rules in force on that day (the last version dated on or before it) put
    over it. Pure, so the projection can call it with the rules it stored."""
    version = None
    for candidate in rules:  # oldest first
        if candidate["effective_date"] <= day:
            version = candidate
    if version is None:
        return policy
    merged = dict(policy)
    for rule in ("require_fee_paid", "min_shares"):
        if version[rule] is not None:
            merged[rule] = version[rule]
    return merged


def college_weights(
    *, statutes: dict[str, Any], policy: dict[str, Any], legal_form: LegalForm, members: dict[str, int], eligible: dict[str, int]
) -> dict[str, Any]:
    """Each college's statutory and effective weight (exact fractions of 100) and each eligible
    member's weight. An empty college's weight is shared among the others in proportion to their
    weights ("redistribute") or left unassigned, as the policy says; a SCIC college pushed outside
    10%..50% by that is flagged, never hidden."""
    colleges = statutes["colleges"]
    statutory = {c["code"]: Fraction(c["weight"]) for c in colleges}
    assert sum(statutory.values()) == HUNDRED, f"statutory weights sum to {sum(statutory.values())}"
    non_empty = [code for code in statutory if eligible.get(code, 0) > 0]
    effective = {code: Fraction(0) for code in statutory}
    if non_empty:
        if policy["empty_college_policy"] == "redistribute":
            total = sum(statutory[code] for code in non_empty)
            for code in non_empty:
                effective[code] = statutory[code] * HUNDRED / total
        else:
            for code in non_empty:
                effective[code] = statutory[code]
    unassigned = HUNDRED - sum(effective.values())
    flags = []
    if legal_form is LegalForm.SCIC:
        for code in non_empty:
            if not SCIC_MIN_WEIGHT <= effective[code] <= SCIC_MAX_WEIGHT:
                flags.append(
                    {
                        "college": code,
                        "rule": "scic_weight_bounds",
                        "message": f"college {code} holds {float(effective[code]):.2f}% of the votes once empty colleges "
                        f"are accounted for, outside the 10%..50% the SCIC law sets",
                    }
                )
    rows = []
    for c in colleges:
        code = c["code"]
        count = eligible.get(code, 0)
        rows.append(
            {
                "code": code,
                "name": c["name"],
                "statutory_weight": statutory[code],
                "members": members.get(code, 0),
                "eligible_members": count,
                "effective_weight": effective[code],
                "member_weight": effective[code] / count if count else None,
            }
        )
    distributed = sum(r["member_weight"] * r["eligible_members"] for r in rows if r["member_weight"] is not None)
    assert distributed + unassigned == HUNDRED, "weights lost in distribution"
    return {
        "colleges": rows,
        "unassigned_weight": unassigned,
        "flags": flags,
        "empty_college_policy": policy["empty_college_policy"],
        "weighted": statutes["weighted"],
    }


def tally(
    *, weights: dict[str, Any], votes: list[tuple[str, str]], threshold: Fraction, strict: bool, policy: dict[str, Any]
) -> dict[str, Any]:
    """Per college: share for = for / (for + against); result = Σ effective weight × share.

    `votes` are (college, choice). A college where nobody cast a vote is treated like an empty
    college under the policy (its weight shared among colleges that voted, or left out).
    """
    counts = {r["code"]: {c: 0 for c in CHOICES} for r in weights["colleges"]}
    for college, choice in votes:
        counts[college][choice] += 1
    effective = {r["code"]: r["effective_weight"] for r in weights["colleges"]}
    voting = [code for code, c in counts.items() if c["for"] + c["against"] > 0 and effective[code] > 0]
    used = {code: Fraction(0) for code in counts}
    if voting:
        total = sum(effective[code] for code in voting)
        for code in voting:
            used[code] = (
                effective[code] * HUNDRED / total if policy["empty_college_policy"] == "redistribute" else effective[code]
            )
    result = Fraction(0)
    rows = []
    for code, c in counts.items():
        cast = c["for"] + c["against"]
        share = Fraction(c["for"], cast) if cast else None
        contribution = used[code] * share / HUNDRED if share is not None else Fraction(0)
        result += contribution
        rows.append(
            {
                "code": code,
                **c,
                "cast": cast,
                "share_for": share,
                "weight_used": used[code],
                "contribution": contribution,
                "carried": share is not None and share > Fraction(1, 2),
            }
        )
    adopted = result > threshold if strict else result >= threshold
    return {
        "colleges": rows,
        "result": result,
        "threshold": threshold,
        "strict": strict,
        "adopted": adopted,
        "carried_by": [r["code"] for r in rows if r["carried"]],
    }
