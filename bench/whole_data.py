"""The whole benchmark's data set, as the JSON-lines file a treasurer hands to `coopledger record`:
`coops` associations, each founded with `members` members admitted in its first month, then
for each of `years` years every member's fee called in February and paid later in the year.

With the defaults (10 × 1,000 × 5) that is 110,010 commands and 100,000 journal entries (a
call and a payment per member and year). Deterministic: the same options write the same file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import orjson

FIRST_YEAR = 2020
FEE_EUR = "60.00"  # every member is one person: one bracket
FEE_CENTS = 6000


@dataclass
class WholeData:
    path: Path
    coops: int
    members: int
    years: int
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def commands(self) -> int:
        return sum(self.counts.values())

    @property
    def entries(self) -> int:
        return self.counts["CallFee"] + self.counts["PayFee"]

    def slugs(self) -> list[str]:
        return [f"assoc-{c:02d}" for c in range(self.coops)]

    def expected_eur_cents(self) -> int:
        """Each cooperative's total debit (= credit) in EUR after the file: every call (411 / 756)
        and every payment (512 / 411) is one debit and one credit of the fee."""
        return 2 * self.members * self.years * FEE_CENTS


def _found(slug: str) -> dict[str, object]:
    return {
        "command": "FoundCooperative",
        "idempotency_key": f"{slug}-found",
        "coop": slug,
        "name": f"Association {slug}",
        "legal_form": "association",
        "founded_on": f"{FIRST_YEAR}-01-01",
        "colleges": [{"code": "users", "name": "Usagers"}],
        "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": FEE_EUR}],
    }


def write_commands(path: Path, *, coops: int, members: int, years: int) -> WholeData:
    """Writes the command file in the order a treasurer would record it: foundings, admissions,
    then year by year the calls, then the payments (bank statements come later)."""
    data = WholeData(path, coops, members, years)
    slugs = data.slugs()
    with path.open("wb") as out:

        def line(body: dict[str, object]) -> None:
            data.counts[str(body["command"])] += 1
            out.write(orjson.dumps(body) + b"\n")

        for slug in slugs:
            line(_found(slug))
        for slug in slugs:
            for m in range(members):
                admitted = date(FIRST_YEAR, 1, 1) + timedelta(days=m % 28)
                line(
                    {
                        "command": "AdmitMember",
                        "idempotency_key": f"{slug}-adm-{m}",
                        "coop": slug,
                        "member_id": f"M{m:05d}",
                        "name": f"Membre {m}",
                        "kind": "person",
                        "college": "users",
                        "effective_date": admitted.isoformat(),
                    }
                )
        for year in range(FIRST_YEAR, FIRST_YEAR + years):
            _one_year(line, slugs, members, year)
    return data


def _one_year(line: Callable[[dict[str, object]], None], slugs: list[str], members: int, year: int) -> None:
    for slug in slugs:
        for m in range(members):
            line(
                {
                    "command": "CallFee",
                    "idempotency_key": f"{slug}-call-{year}-{m}",
                    "coop": slug,
                    "member_id": f"M{m:05d}",
                    "year": year,
                    "effective_date": f"{year}-02-01",
                }
            )
    for slug in slugs:
        for m in range(members):
            paid = date(year, 2, 2) + timedelta(days=m % 300)
            line(
                {
                    "command": "PayFee",
                    "idempotency_key": f"bank-{slug}-{year}-{m}",
                    "coop": slug,
                    "member_id": f"M{m:05d}",
                    "year": year,
                    "amount": FEE_EUR,
                    "effective_date": paid.isoformat(),
                }
            )
