"""A family added without touching a shipped file works end to end: its command over HTTP with its
roles, its event in the store, its projection, the change feed, the FEC, a reversal and a rebuild.

The family registers itself when imported, and the registries are process-wide; so the scenario
runs in a fresh interpreter of its own and the rest of the suite never sees the tool library (the
shipped documentation does not list it, and must not have to).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from domain.family import families

ROOT = Path(__file__).resolve().parents[2]
COOP = "outils"
FOUND = {
    "name": "Outilthèque du quartier",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "siren": "123456782",
    "colleges": [{"code": "users", "name": "Usagers"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "10"}],
}


def test_the_example_family_works_end_to_end_in_a_process_of_its_own(store_url):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from tests.example_family.test_example_family import scenario; scenario(sys.argv[1])",
            store_url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    assert "scenario passed" in done.stdout
    assert "tool_library" not in {f.name for f in families()}  # this process never imported it


def scenario(url: str) -> None:
    """Runs in its own interpreter (see the module's docstring); raises on the first difference."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.keys import create_key
    from ledger.exports.fec import export_fec
    from ledger.store import StoreConfig
    from tests.example_family import projection  # registering: the family, then its view

    assert "tool_library" in {f.name for f in families()}
    app = create_app(StoreConfig.from_url(url))
    with TestClient(app) as client:
        services = app.state.services
        token = {
            role: create_key(services.ledger.db, role=role, coops=[COOP])[1] for role in ("admin", "treasurer", "clerk", "reader")
        }

        def post(role: str, command: str, body: dict, key: str):
            return client.post(
                f"/v1/coops/{COOP}/commands/{command}",
                json=body,
                headers={"Authorization": f"Bearer {token[role]}", "Idempotency-Key": key},
            )

        assert post("admin", "FoundCooperative", FOUND, "found").status_code == 201
        admit = {"member_id": "m1", "name": "Alice", "kind": "person", "college": "users", "effective_date": "2025-01-02"}
        assert post("clerk", "AdmitMember", admit, "admit").status_code == 201
        tool = {"tool_id": "drill", "name": "Perceuse", "daily_rate": "7.50", "effective_date": "2025-01-03"}
        r = post("clerk", "RegisterTool", tool, "tool")
        assert r.status_code == 201, r.text
        rent = {"tool_id": "drill", "member_id": "m1", "days": 3, "effective_date": "2025-01-04"}

        # Its roles are the declaration's: a clerk records tools but takes no money.
        r = post("clerk", "RentTool", rent, "rent-by-clerk")
        assert r.status_code == 403, r.text
        # Its rules answer like any family's: the field and the rule, nothing written.
        r = post("treasurer", "RentTool", {**rent, "days": 0}, "rent-zero")
        assert r.status_code == 422 and r.json()["field"] == "days", r.text
        r = post("treasurer", "RentTool", {**rent, "tool_id": "saw"}, "rent-saw")
        assert r.status_code == 404 and r.json()["rule"] == "known_tool", r.text
        published = client.get("/openapi.json").json()["components"]["schemas"]["ProblemRule"]["enum"]
        assert {"known_tool", "unique_tool", "known_member"} <= set(published) and published == sorted(published)
        r = post("treasurer", "RentTool", rent, "rent")
        assert r.status_code == 201, r.text
        rented = r.json()
        assert rented["events"] == ["ToolRented"]
        (number,) = rented["journal_numbers"]
        retry = post("treasurer", "RentTool", rent, "rent")
        assert retry.headers["Idempotent-Replayed"] == "true" and retry.json()["position"] == rented["position"]  # adds nothing
        assert services.runner.wait_for(rented["position"], timeout_s=20)

        # Its entry, 3 days × 7.50 EUR at the bank, in the journal and the balances.
        ledger = services.ledger
        page = client.get(
            f"/v1/coops/{COOP}/journal",
            params={"after": number - 1, "limit": 1},
            headers={"Authorization": f"Bearer {token['admin']}"},
        )
        assert page.status_code == 200, page.text
        (entry,) = page.json()["entries"]
        assert entry["kind"] == "ToolRented" and entry["number"] == number, entry
        assert sorted((line["account"], line["amount"]) for line in entry["postings"]) == [("512", "22.50"), ("706", "-22.50")], (
            entry
        )
        balance = client.get(f"/v1/coops/{COOP}/accounts/706/balance", headers={"Authorization": f"Bearer {token['reader']}"})
        assert balance.status_code == 200 and balance.json()["balance"] == "-22.50", balance.text

        # Its projection.
        with ledger.db.read() as tx:
            assert projection.tools(tx, COOP) == [("drill", "Perceuse", 750, 3, 2250)]

        # The change feed: kinds from the declaration; a reader follows the entries, not the activities.
        def kinds(role: str) -> list[str]:
            page = client.get(f"/v1/coops/{COOP}/feed", headers={"Authorization": f"Bearer {token[role]}"})
            assert page.status_code == 200, page.text
            return [fact["kind"] for fact in page.json()["facts"]]

        assert {"tool.registered", "tool.rented"} <= set(kinds("admin"))
        assert "tool.rented" in kinds("reader") and "tool.registered" not in kinds("reader")

        # The FEC: the rental in the bank journal.
        fec = export_fec(ledger, COOP, 2025)
        rows = [
            dict(
                zip(("JournalCode", "EcritureNum", "CompteNum", "Debit", "Credit"), (r[0], r[2], r[4], r[11], r[12]), strict=True)
            )
            for r in fec.rows
        ]
        assert [(r["JournalCode"], r["CompteNum"], r["Debit"], r["Credit"]) for r in rows] == [
            ("BQ", "512", "22,50", "0,00"),
            ("BQ", "706", "0,00", "22,50"),
        ], rows

        # A reversal undoes the rental in the view; a rebuild from the log gives the same rows.
        reverse = {"entry_number": number, "reason": "saisie en double", "effective_date": "2025-01-05"}
        r = post("treasurer", "ReverseEntry", reverse, "reverse")
        assert r.status_code == 201, r.text
        assert services.runner.wait_for(r.json()["position"], timeout_s=20)
        with ledger.db.read() as tx:
            assert projection.tools(tx, COOP) == [("drill", "Perceuse", 750, 0, 0)]
        services.runner.rebuild()
        with ledger.db.read() as tx:
            assert projection.tools(tx, COOP) == [("drill", "Perceuse", 750, 0, 0)]

        # The API documents it like any command.
        assert "/v1/coops/{coop}/commands/RentTool" in client.get("/openapi.json").json()["paths"]
    print("scenario passed")
