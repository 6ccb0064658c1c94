"""Backup and restore through the documented commands (`coopledger backup --out FILE`, then
`coopledger restore FILE` on an empty store), on both stores.

Checked: the restored store, after its projections are rebuilt from zero, has the same trial
balance, the same chain head (the Journal's last number and hash, from the aggregate) and the
same log position for every cooperative, and every view holds the same rows as the source's.
A restore over a store that is not empty is refused and changes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ledger.backup import rename_schema
from projections.balances import trial_balance
from projections.runner import ProjectionRunner
from tests.builders import dump_projections
from tests.reliability.harness import ROOT, load_demo, open_ledger


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COOPLEDGER_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _books(url: str, slugs: list[str]) -> dict[str, Any]:
    ledger = open_ledger(url)
    try:
        runner = ProjectionRunner(ledger)
        runner.catch_up()
        heads = {}
        for slug in slugs:
            journal = ledger.cooperative(slug).journal
            heads[slug] = (journal.last_number, journal.last_hash)
        return {
            "trial_balances": {s: trial_balance(ledger.db, s) for s in slugs},
            "heads": heads,
            "position": ledger.position(),
            "views": dump_projections(runner),
        }
    finally:
        ledger.close()


def test_backup_restored_into_an_empty_store_gives_the_same_books(store_factory, tmp_path: Path):
    source = store_factory.new()
    slugs = load_demo(source)
    before = _books(source, slugs)
    assert sum(number for number, _head in before["heads"].values()) > 100  # books worth restoring

    file = tmp_path / "books.backup"
    done = _cli(source, "backup", "--out", str(file))
    assert done.returncode == 0, done.stderr
    assert file.stat().st_size > 10_000
    again = _cli(source, "backup", "--out", str(file))
    assert again.returncode != 0 and "already exists" in again.stderr  # never overwrites

    target = store_factory.new()
    done = _cli(target, "restore", str(file))
    assert done.returncode == 0, done.stderr
    for slug in slugs:  # the command prints the heads it verified
        number, head = before["heads"][slug]
        assert f"{slug}: {number} entries, chain head {head}" in done.stdout, done.stdout
    after = _books(target, slugs)
    assert after["trial_balances"] == before["trial_balances"]
    assert after["heads"] == before["heads"]
    assert after["position"] == before["position"]
    differing = [t for t in before["views"] if before["views"][t] != after["views"][t]]
    assert not differing, differing

    # The restored store verifies, with the same event chain heads as the source (kept in minutes).
    source_verify, target_verify = _cli(source, "verify", "--json"), _cli(target, "verify", "--json")
    assert source_verify.returncode == 0 and target_verify.returncode == 0, target_verify.stdout
    heads = {r["coop"]: r["head"] for r in json.loads(target_verify.stdout)}
    assert heads == {r["coop"]: r["head"] for r in json.loads(source_verify.stdout)} and set(slugs) <= set(heads)
    for slug in slugs:
        assert f"head {heads[slug]}" in done.stdout
    refused = _cli(target, "restore", str(file))  # over books: refused, nothing changed
    assert refused.returncode != 0 and "not empty" in refused.stderr + refused.stdout, refused.stderr
    assert _books(target, slugs)["heads"] == before["heads"]


def test_schema_rename_leaves_copy_rows_alone():
    dump = "\n".join(
        [
            "CREATE SCHEMA t_src;",
            "CREATE TABLE t_src.events (id bigint DEFAULT nextval('t_src.events_id_seq'::regclass));",
            "-- Name: events; Type: TABLE; Schema: t_src",
            "COPY t_src.events (id, state) FROM stdin;",
            "1\tt_src.events; is text inside a row",
            "\\.",
            "SELECT pg_catalog.setval('t_src.events_id_seq', 1, true);",
            "CREATE INDEX i ON xt_src.other USING btree (id);",
        ]
    )
    renamed = rename_schema(dump, "t_dst").split("\n")
    assert renamed[0] == "CREATE SCHEMA IF NOT EXISTS t_dst;"
    assert renamed[1] == "CREATE TABLE t_dst.events (id bigint DEFAULT nextval('t_dst.events_id_seq'::regclass));"
    assert renamed[3] == "COPY t_dst.events (id, state) FROM stdin;"
    assert renamed[4] == "1\tt_src.events; is text inside a row"  # data untouched
    assert renamed[6] == "SELECT pg_catalog.setval('t_dst.events_id_seq', 1, true);"
    assert renamed[7] == "CREATE INDEX i ON xt_src.other USING btree (id);"  # another name, untouched
