"""Forgetting a person, end to end, on both stores (docs/decisions/0013-forgetting-a-person.md).

A member who paid fees, voted, gave a gift and resigned years ago asks to be forgotten. Over the
API an admin reads everything held on them, then forgets them. Afterwards: no output holds their
name or address (the whole database, in a dump and, for SQLite, its files' bytes; the FEC, the
plain-text export, the journal, the statement, the member list, the feed, the audit trail, the
observatory, a backup taken afterwards), `verify` passes, the balances, the weights and the tally
are those of before, and a rebuild of every view gives them again. What the dump held before the
erasure, the person's export listed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.keys import create_key
from domain.personal import pseudonym
from ledger.store import StoreConfig
from projections.balances import trial_balance
from projections.governance_reads import resolution_tally, weights_as_of
from projections.runner import ProjectionRunner
from tests.cli.conftest import run as cli_run
from tests.conftest import migrates_the_store
from tests.reliability.harness import open_ledger

COOP, PERSON, OTHER = "asso-oubli", "M-77", "M-01"
NAME, ADDRESS = "Zoé Quintessence-Oubliable", "17 impasse des Secrets, 33000 Bordeaux"
SECRETS = (NAME, "Quintessence", ADDRESS, "impasse des Secrets")
FOUND = {
    "name": "Association de l'oubli",
    "legal_form": "association",
    "siren": "123456782",
    "founded_on": "2015-01-01",
    "colleges": [{"code": "users", "name": "Usagers", "weight": "100"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
}
HISTORY = [  # (role, command, body): all of it more than six years before the erasure (today)
    (
        "clerk",
        "AdmitMember",
        {"member_id": PERSON, "name": NAME, "kind": "person", "college": "users", "effective_date": "2016-01-10"},
    ),
    (
        "clerk",
        "AdmitMember",
        {"member_id": OTHER, "name": "Autre Membre", "kind": "person", "college": "users", "effective_date": "2016-01-10"},
    ),
    ("treasurer", "CallFee", {"member_id": PERSON, "year": 2016, "effective_date": "2016-01-10"}),
    ("treasurer", "PayFee", {"member_id": PERSON, "year": 2016, "amount": "100", "effective_date": "2016-02-01"}),
    ("treasurer", "CallFee", {"member_id": OTHER, "year": 2016, "effective_date": "2016-01-10"}),
    ("treasurer", "PayFee", {"member_id": OTHER, "year": 2016, "amount": "100", "effective_date": "2016-02-01"}),
    (
        "board",
        "RecordResolution",
        {"resolution_id": "AG-2016", "title": "Comptes 2015", "assembly": "ordinary", "vote_date": "2016-06-30"},
    ),
    ("board", "CastVote", {"resolution_id": "AG-2016", "member_id": PERSON, "choice": "for"}),
    ("board", "CastVote", {"resolution_id": "AG-2016", "member_id": OTHER, "choice": "against"}),
    (
        "treasurer",
        "RecordDonation",
        {
            "donation_id": "DON-2017-1",
            "donor_id": PERSON,
            "donor_name": NAME,
            "donor_kind": "individual",
            "donor_address": ADDRESS,
            "amount": "250",
            "effective_date": "2017-03-15",
        },
    ),
    ("clerk", "ResignMember", {"member_id": PERSON, "effective_date": "2018-12-31"}),
]


@pytest.fixture
@migrates_the_store
def api(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        services = app.state.services
        tokens = {
            role: create_key(services.ledger.db, role=role, coops=[COOP])[1] for role in ("admin", "treasurer", "clerk", "board")
        }
        env = {"client": client, "tokens": tokens, "services": services, "url": store_url}
        _post(env, "admin", "FoundCooperative", FOUND)
        for role, command, body in HISTORY:
            _post(env, role, command, body)
        yield env


def _post(env: dict[str, Any], role: str, command: str, body: dict[str, Any]) -> dict[str, Any]:
    env["sent"] = env.get("sent", 0) + 1  # keys are stored in the events in clear: they name no one
    headers = {"Authorization": f"Bearer {env['tokens'][role]}", "Idempotency-Key": f"{command}-{env['sent']}"}
    r = env["client"].post(f"/v1/coops/{COOP}/commands/{command}", json=body, headers=headers)
    assert r.status_code == 201, r.text
    env["position"] = r.json()["position"]
    return r.json()


def _get(env: dict[str, Any], path: str, role: str = "admin", **params: Any) -> Any:
    params.setdefault("min_position", env["position"])
    r = env["client"].get(f"/v1/coops/{COOP}{path}", params=params, headers={"Authorization": f"Bearer {env['tokens'][role]}"})
    assert r.status_code == 200, (path, r.text)
    return r.json()


def _text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _observatory(env: dict[str, Any]) -> Any:
    r = env["client"].get(f"/v1/coops/{COOP}/observatory", headers={"Authorization": f"Bearer {env['tokens']['admin']}"})
    assert r.status_code == 200, r.text
    return r.json()


def _dump(url: str) -> str:
    """Every row of the store as SQL text: the logical dump an operator or a backup would take."""
    config = StoreConfig.from_url(url)
    if config.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(config.sqlite_path)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    argv = ["pg_dump", "-h", config.pg_host, "-p", str(config.pg_port), "-U", config.pg_user, "--schema", config.pg_schema]
    return subprocess.run([*argv, config.pg_dbname], capture_output=True, text=True, check=True, timeout=120).stdout


def _files(url: str) -> bytes:
    """SQLite: the bytes of the database and of its log, free pages included."""
    path = StoreConfig.from_url(url).sqlite_path
    assert path is not None
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def _figures(url: str) -> dict[str, Any]:
    ledger = open_ledger(url)
    try:
        ProjectionRunner(ledger).catch_up()
        db = ledger.db
        return {
            "trial_balance": trial_balance(db, COOP),
            "weights": weights_as_of(db, COOP, date(2016, 6, 30)),
            # The tally names the event chain's head it was computed at: the erasure adds an event.
            "tally": {k: v for k, v in (resolution_tally(db, COOP, "AG-2016") or {}).items() if k != "head"},
        }
    finally:
        ledger.close()


def _outputs(env: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """Every output a person's identity could reach, as text: API reads, then CLI exports."""
    out = {
        "members": _text(_get(env, "/members", year=2016)),
        "journal": _text(_get(env, "/journal")),
        "statement": _text(_get(env, "/accounts/411/statement", party=PERSON)),
        "feed": _text(_get(env, "/feed")),
        "audit_trail": _text(_get(env, "/audit-trail")),
        "observatory": _text(_observatory(env)),
        "donors": _text(_get(env, "/donations/receipts", year=2017)),
    }
    fec_dir = tmp_path / f"fec-{len(list(tmp_path.iterdir()))}"
    for year in (2016, 2017):
        done = cli_run(env["url"], "export", "fec", "--coop", COOP, "--year", str(year), "--out", str(fec_dir))
        assert done.exit_code == 0, done.output
    out["fec"] = "\n".join(p.read_text(encoding="utf-8") for p in sorted(fec_dir.iterdir()))
    done = cli_run(env["url"], "export", "hledger", "--coop", COOP, "--out", "-")
    assert done.exit_code == 0, done.output
    out["plaintext"] = done.output
    return out


def test_a_forgotten_member_leaves_no_trace_and_the_books_stay_whole(api, tmp_path: Path):
    url = api["url"]
    before = _figures(url)
    outputs_before = _outputs(api, tmp_path)
    assert NAME in outputs_before["members"] and ADDRESS in outputs_before["donors"]  # the outputs do show them
    assert NAME in outputs_before["fec"]  # CompAuxLib names the member's account

    export = _get(api, f"/persons/{PERSON}")
    exported = json.dumps(export, ensure_ascii=False)
    dump_before = _dump(url)
    held = [s for s in SECRETS if s in dump_before]
    assert held, "the dump held the identity before the erasure"
    assert all(s in exported for s in held), [s for s in held if s not in exported]
    assert {i["value"] for i in export["identity"]} == {NAME, ADDRESS}
    assert {e["event"] for e in export["events"]} >= {
        "MemberAdmitted",
        "FeePaid",
        "VoteCast",
        "DonationReceived",
        "MemberResigned",
    }

    body = {"person_id": PERSON, "reason": "demande de la personne du 2026-12-01", "effective_date": _today()}
    _post(api, "admin", "ForgetPerson", body)
    outputs_after = _outputs(api, tmp_path)
    for name, text in outputs_after.items():
        assert not [s for s in SECRETS if s in text], name
    assert pseudonym(PERSON) in outputs_after["members"] and pseudonym(PERSON) in outputs_after["fec"]
    after_export = _get(api, f"/persons/{PERSON}")
    assert after_export["forgotten"]["reason"] == body["reason"] and not after_export["has_key"]
    assert not [s for s in SECRETS if s in json.dumps(after_export, ensure_ascii=False)]
    api["client"].__exit__(None, None, None)  # the server stops: its runner has erased what it had to

    dump_after = _dump(url)
    assert not [s for s in SECRETS if s in dump_after]
    if StoreConfig.from_url(url).kind == "sqlite":
        assert not [s for s in SECRETS if s.encode() in _files(url)]
    backup = tmp_path / "after.backup"
    done = cli_run(url, "backup", "--out", str(backup))
    assert done.exit_code == 0, done.output
    assert not [s for s in SECRETS if s.encode() in _backup_bytes(url, backup)]

    verified = cli_run(url, "verify", "--json")
    assert verified.exit_code == 0, verified.output
    # The same figures, the name replaced by the pseudonym where a report lists members.
    same = json.loads(_text(before).replace(NAME, pseudonym(PERSON)))
    assert NAME in _text(before["weights"]) and _figures(url) == same
    rebuilt = cli_run(url, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _figures(url) == same
    assert not [s for s in SECRETS if s in _dump(url)]


def _backup_bytes(url: str, backup: Path) -> bytes:
    if StoreConfig.from_url(url).kind == "sqlite":
        return backup.read_bytes()
    # A custom-format dump is compressed: read it back as SQL text.
    return subprocess.run(["pg_restore", "-f", "-", str(backup)], capture_output=True, check=True, timeout=120).stdout


def _today() -> str:
    return date.today().isoformat()
