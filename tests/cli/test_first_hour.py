"""What a treasurer meets in the first hour: no store appears by accident, a mistyped name is an
error listing what exists, French output is French (Babel), keys are checked and described."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest

from ledger.store import StoreConfig
from tests.cli.conftest import cli, run, text

FOUND = {
    "command": "FoundCooperative",
    "idempotency_key": "f1",
    "coop": "solo",
    "name": "Solo",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "colleges": [{"code": "users", "name": "Usagers"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "10.00"}],
}


def _store_tables(url: str) -> bool:
    config = StoreConfig.from_url(url)
    if config.kind == "sqlite":
        return config.sqlite_path is not None and config.sqlite_path.exists()
    with psycopg.connect(host=config.pg_host, port=config.pg_port, user=config.pg_user, dbname=config.pg_dbname) as conn:
        return bool(
            conn.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = %s", (config.pg_schema,)).fetchall()
        )


def test_reading_commands_never_create_a_store_writers_say_where_they_did(store_url: str, tmp_path: Path) -> None:
    for command in (["coops"], ["trial-balance"], ["keys", "list"], ["verify"]):
        result = run(store_url, *command)
        assert result.exit_code == 1, (command, result.output)
        assert "no store at" in result.output and "COOPLEDGER_DATABASE_URL" in result.output, result.output
    assert not _store_tables(store_url)
    commands = tmp_path / "found.jsonl"
    commands.write_text(json.dumps(FOUND) + "\n")
    recorded = run(store_url, "record", str(commands))
    assert recorded.exit_code == 0, recorded.output
    assert f"created a new store: {StoreConfig.from_url(store_url).describe()}" in recorded.output
    assert "solo" in run(store_url, "coops").output


def test_the_default_store_is_looked_for_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COOPLEDGER_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["coops"])
    assert result.exit_code == 1 and str(tmp_path / "var" / "coopledger.sqlite") in result.output
    assert not (tmp_path / "var").exists()
    # --help says what chooses the store, not a path the environment may override
    assert "COOPLEDGER_DATABASE_URL" in CliRunner().invoke(cli, ["--help"]).output


@pytest.mark.parametrize(
    "args, field, rule",
    [
        (["statement", "4111", "--coop", "cluster-numerique-sud"], "account", "known_account"),
        (["statement", "411", "--coop", "cluster-numerique-sud", "--party", "PUB-99"], "party", "known_party"),
        (["report", "statement", "4111", "--coop", "mednum-scic"], "account", "known_account"),
        (["explain-member", "XXX", "--coop", "cluster-numerique-sud"], "member_id", "known_member"),
        (["tally", "AG-9999", "--coop", "cluster-numerique-sud"], "resolution_id", "known_resolution"),
        (["members", "--coop", "no-such-coop"], "coop", "known_cooperative"),
        (["keys", "create", "--role", "reader", "--coop", "no-such-coop"], "--coop", "known_cooperative"),
    ],
)
def test_unknown_names_are_errors_that_list_what_exists(demo_url: str, args: list[str], field: str, rule: str) -> None:
    result = run(demo_url, *args)
    assert result.exit_code == 1, result.output
    assert rule in result.output and field in result.output, result.output
    if rule in ("known_account", "known_party", "known_member"):
        assert re.search(r"\((accounts of class 4|parties on 411|members): \w", result.output), result.output


def test_french_output_is_french_and_english_english(demo_url: str) -> None:
    gov = text(run(demo_url, "governance", "--coop", "cluster-numerique-sud", "--as-of", "2026-06-30"))
    assert "statutaire" in gov and "40,00 %" in gov and "cotisation 2026 exigée : oui" in gov
    assert not re.search(r"\d\.\d\d%|True|False|required", gov), gov
    en = run(demo_url, "governance", "--coop", "cluster-numerique-sud", "--as-of", "2026-06-30", "--lang", "en").output
    assert "statutory" in en and "40.00%" in en and "2026 fee required: yes" in en
    sheet = text(run(demo_url, "report", "balance-sheet", "--coop", "mednum-scic", "--end", "2025-12-31"))
    assert "passif et capitaux propres : 50 198,90" in sheet and "liabilities_and_equity" not in sheet
    members = text(run(demo_url, "members", "--coop", "mednum-scic", "--year", "2025"))
    assert "statut" in members and "cotisation appelée" in members and "actif" in members and "active" not in members
    coops = text(run(demo_url, "coops"))
    assert "fondée le" in coops and "20/02/2025" in coops and "40 % / 30 % / 30 %" in coops
    trail = text(run(demo_url, "audit-trail", "--coop", "mednum-scic", "--by", "effective", "--to", "2025-03-01"))
    assert "piste d'audit" in trail and "enregistré le (UTC)" in trail and "01/03/2025" in trail
    # --lang after the subcommand, as after `coopledger`
    sheet_en = run(demo_url, "report", "balance-sheet", "--coop", "mednum-scic", "--end", "2025-12-31", "--lang", "en")
    assert sheet_en.exit_code == 0 and "liabilities and equity: 50,198.90" in sheet_en.output


def test_trial_balance_lists_accounts_in_number_order(demo_url: str) -> None:
    (tb,) = json.loads(run(demo_url, "trial-balance", "--coop", "cluster-numerique-sud", "--json").output)
    numbers = [row["account"] for row in tb["accounts"]]
    assert numbers == sorted(numbers) and any(n.startswith("8") for n in numbers), numbers


def test_keys_have_help_and_a_table_with_headers(demo_url: str) -> None:
    for sub in ("create", "list", "revoke"):
        help_text = run(demo_url, "keys", sub, "--help").output
        assert re.search(r"Usage: .*\n\n  \w+", help_text), help_text  # a description under the usage line
    created = run(demo_url, "keys", "create", "--role", "reader", "--coop", "mednum-scic", "--label", "essai")
    assert created.exit_code == 0, created.output
    listed = run(demo_url, "keys", "list", "--lang", "en").output
    assert re.search(r"key\s+┃\s+role\s+┃\s+coops\s+┃\s+state", listed) and "essai" in listed and "active" in listed, listed


def test_the_api_answers_404_problems_for_unknown_accounts_parties_members_and_commands(demo_url: str) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.keys import create_key

    app = create_app(StoreConfig.from_url(demo_url))
    with TestClient(app) as client:
        ledger = app.state.services.ledger
        token = create_key(ledger.db, role="auditor", coops=["cluster-numerique-sud"])[1]
        # The fixture records the demo without projecting it; when this test is the first of its
        # worker to use it, the app's runner projects it now: read once it has (else a 503, rightly).
        assert app.state.services.runner.wait_for(ledger.position(), 30)
        base = "/v1/coops/cluster-numerique-sud"
        for path, rule in [
            (f"{base}/accounts/4111/statement", "known_account"),
            (f"{base}/accounts/411/statement?party=PUB-99", "known_party"),
            (f"{base}/accounts/4111/balance", "known_account"),
            (f"{base}/reports/accounts/4111/statement", "known_account"),
            (f"{base}/governance/members/XXX?as_of=2026-06-30", "known_member"),
        ]:
            answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 404, (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json" and answer.json()["rule"] == rule
        known = client.get(f"{base}/accounts/411/statement?party=PUB-02", headers={"Authorization": f"Bearer {token}"})
        assert known.status_code == 200 and known.json()["lines"]
        explained = client.get(f"{base}/governance/members/REC-01?as_of=2026-06-30", headers={"Authorization": f"Bearer {token}"})
        fee = explained.json()["reasons"][2]["text"]
        assert fee == {
            "fr": "cotisation payée : cotisation 2026 : 150,00\u00a0€ payés sur 300,00\u00a0€ au 30 juin 2026",
            "en": "fee paid: 2026 fee: €150.00 of €300.00 paid by 30 Jun 2026",
        }
        treasurer = create_key(app.state.services.ledger.db, role="treasurer", coops=["cluster-numerique-sud"])[1]
        unknown = client.post(f"{base}/commands/PayFe", json={}, headers={"Authorization": f"Bearer {treasurer}"})
        assert unknown.status_code == 404 and unknown.json()["rule"] == "known_command", unknown.text
        assert "PayFee" in unknown.json()["detail"] and "ReverseEntry" in unknown.json()["detail"]


def test_a_backup_is_one_file_before_and_after_a_restore(demo_url: str, tmp_path: Path) -> None:
    backup = tmp_path / "books.bak"
    assert run(demo_url, "backup", "--out", str(backup)).exit_code == 0
    restored = run(f"sqlite:///{tmp_path / 'restored.sqlite'}", "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert "cluster-numerique-sud: 199 entries" in restored.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("books.bak")) == ["books.bak"]


def test_record_prints_the_refusals_and_a_summary_naming_their_lines(demo_url: str, tmp_path: Path) -> None:
    admit = {
        "command": "AdmitMember",
        "idempotency_key": "fh-adm-1",
        "coop": "mednum-scic",
        "member_id": "FH-1",
        "name": "Première heure",
        "kind": "person",
        "college": "beneficiaires",
        "effective_date": "2026-02-01",
    }
    path = tmp_path / "commands.jsonl"
    path.write_text("\n".join([json.dumps(admit), '{"command": "PayFee", "coop": "mednum-scic",', '{"command": "PayFe"}']) + "\n")
    quiet = run(demo_url, "record", str(path), lang="en")
    assert quiet.exit_code == 1
    shown = [line for line in quiet.output.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in shown] == ["line 2", "line 3"], quiet.output
    assert "not valid JSON at column" in shown[0] and "line 2 column" not in quiet.output
    assert "3 command(s) in" in quiet.output and "1 recorded now, 0 already recorded, 2 refused" in quiet.output
    assert "refused lines: 2, 3" in quiet.output
    french = text(run(demo_url, "record", str(path)))
    assert "ligne 2 : refusée line (json) : not valid JSON at column" in french and "lignes refusées : 2, 3" in french
    verbose = run(demo_url, "record", str(path), "--verbose", lang="en")
    assert [line.split(":")[0] for line in verbose.output.splitlines() if line.startswith("line ")] == [
        "line 1",
        "line 2",
        "line 3",
    ]
    assert "line 1: already recorded AdmitMember" in verbose.output


def test_help_names_the_store_the_environment_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    shown = CliRunner().invoke(cli, ["--help"], env={"COOPLEDGER_DATABASE_URL": "sqlite:////srv/books.sqlite"}).output
    assert "now sqlite:////srv/books.sqlite (from COOPLEDGER_DATABASE_URL)" in " ".join(shown.split())
    assert "var/coopledger.sqlite" not in shown


def test_follow_prints_amounts_not_minor_units() -> None:
    from cli.feed import line

    fact = {
        "position": 7,
        "effective_date": "2026-02-04",
        "kind": "fee.paid",
        "entry": {
            "number": 3,
            "label": "Règlement",
            "postings": [
                {"account": "512", "party": None, "unit": "EUR", "amount": 123456},
                {"account": "411", "party": "BEN-03", "unit": "EUR", "amount": -123456},
            ],
        },
    }
    assert line(fact, "fr").endswith("[512 +1\u202f234,56 411/BEN-03 -1\u202f234,56]")
    assert line(fact, "en").endswith("[512 +1,234.56 411/BEN-03 -1,234.56]")


def test_record_shows_a_progress_bar_with_the_rate_on_a_terminal(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    import cli.record as cli_record

    screen = io.StringIO()
    monkeypatch.setattr(cli_record, "console", Console(file=screen, force_terminal=True, width=120))
    monkeypatch.setattr(cli_record, "RECORD_BATCH", 2)  # a "long" file of 6 lines: three batches
    admit = {
        "command": "AdmitMember",
        "coop": "mednum-scic",
        "name": "Barre",
        "kind": "person",
        "college": "beneficiaires",
        "effective_date": "2026-02-01",
    }
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps({**admit, "idempotency_key": f"bar-{i}", "member_id": f"BAR-{i}"}) for i in range(6)))
    result = run(demo_url, "record", str(path))
    assert result.exit_code == 0
    drawn = screen.getvalue()
    assert "6/6" in drawn and "commands/s" in drawn and "━" in drawn, drawn[-500:]
    assert "ligne " not in drawn  # nothing refused: no line printed
