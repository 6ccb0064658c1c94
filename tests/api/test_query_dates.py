"""Dates in query strings are YYYY-MM-DD and nothing else, as in bodies: pydantic would read
`?as_of=1767225600` as 2026-01-01 and `?as_of=0` as 1970-01-01 (Unix times)."""

from __future__ import annotations

from tests.api import test_api as base

api = base.api
COOP = base.COOP

PATHS = [
    ("/trial-balance", "as_of"),
    ("/governance", "as_of"),
    ("/certifications", "on"),
    ("/cooperation-fund", "as_of"),
    ("/audit-trail", "from"),
    ("/reports/balance-sheet", "end"),
]


BAD = ["1767225600", "0", "2026-1-1", "01/01/2026", "2026-01-01T00:00:00"]


def test_a_query_date_that_is_not_yyyy_mm_dd_is_refused_and_one_that_is_is_read(api):
    headers = {"Authorization": f"Bearer {api['tokens']['admin']}"}
    for path, name in PATHS:
        for value in BAD:
            r = api["client"].get(f"/v1/coops/{COOP}{path}", params={name: value}, headers=headers)
            assert r.status_code == 422, (path, value, r.text)
            assert r.json()["rule"] == "date" and r.json()["field"] == name, r.json()
        r = api["client"].get(f"/v1/coops/{COOP}{path}", params={name: "2026-01-01"}, headers=headers)
        assert r.status_code == 200, (path, r.text)
