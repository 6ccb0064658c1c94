"""The report of a federation (domain/federation.py): what its decider returns to say what moved,
per college and per founder (members, opening balances, open items carried) and in total."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.federation import FederationCollege


def federation_report(
    slug: str,
    day: date,
    new: Cooperative,
    colleges: list[FederationCollege],
    references: list[dict[str, Any]],
    openings: dict[str, list[list[Any]]],
    carried: dict[str, dict[tuple[str, str | None, str], int]],
    party_maps: dict[str, dict[str, str]],
) -> dict[str, Any]:
    weights = {code: c["weight"] for code, c in new.colleges_on(day).items()}
    members_per_college: dict[str, int] = defaultdict(int)
    for ref in references:
        members_per_college[ref["college"]] += len(ref["members"])
    totals: dict[str, dict[str, int]] = {}
    founders = []
    for ref in references:
        postings = openings[ref["coop"]]
        own: dict[str, dict[str, int]] = {}
        for _account, _party, unit, amount in postings:
            for bucket in (own, totals):
                t = bucket.setdefault(unit, {"debit": 0, "credit": 0})
                t["debit" if amount > 0 else "credit"] += abs(amount)
        founders.append(
            {
                **{k: v for k, v in ref.items() if k != "members"},
                "members_moved": len(ref["members"]),
                "members": ref["members"],
                "balances": [{"account": a, "party": p, "unit": u, "amount_minor": amt} for a, p, u, amt in postings],
                "open_items": [
                    {"account": a, "party": party_maps[ref["coop"]].get(p, p) if p else p, "unit": u, "amount_minor": amt}
                    for (a, p, u), amt in sorted(
                        carried[ref["coop"]].items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
                    )
                ],
                "totals": own,
            }
        )
    return {
        "coop": slug,
        "effective_date": day.isoformat(),
        "colleges": [
            {
                "code": c.code,
                "name": c.name,
                "weight": weights[c.code],
                "founders": list(c.founders or []),
                "members": members_per_college[c.code],
            }
            for c in colleges
        ],
        "founders": founders,
        "totals": totals,
    }
