"""Fault 1: the server is SIGKILLed while several client processes send commands, then restarted.

Checked: every command that got a success answer is stored exactly once (its events and its
receipt, with the journal numbers it was answered), no command is half-written, every entry
balances, the journal is numbered 1..N and its hash chain verifies, and re-sending every command
with its key adds nothing (answers say Idempotent-Replayed, with the first answer's position).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx

from tests.reliability.harness import COOP, ROOT, check_whole, headers, seed
from tests.reliability.load_client import load_commands, send

CLIENTS, MEMBERS_PER_CLIENT = 3, 30  # 180 commands, 90 journal entries at most
KILL_AFTER_POSITION = 50  # enough commands in for the kill to land mid-load


def _wait_position(base: str, at_least: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    position = 0
    while time.monotonic() < deadline:
        try:
            position = httpx.get(f"{base}/health", timeout=2).json()["position"]
        except httpx.HTTPError:
            pass
        if position >= at_least:
            return position
        time.sleep(0.02)
    raise AssertionError(f"the load did not reach position {at_least} in {timeout_s} s (at {position})")


def test_sigkill_mid_load_loses_no_answered_command_and_writes_nothing_twice(store_url, servers, tmp_path: Path):
    tokens = seed(store_url)
    server = servers(store_url).start()
    env = {**os.environ, "COOPLEDGER_TEST_CLERK_TOKEN": tokens["clerk"], "COOPLEDGER_TEST_TREASURER_TOKEN": tokens["treasurer"]}
    outs = [tmp_path / f"client-{c}.jsonl" for c in range(CLIENTS)]
    clients = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.load_client", server.base, f"c{c}", str(MEMBERS_PER_CLIENT), str(outs[c])],
            cwd=ROOT,
            env=env,
        )
        for c in range(CLIENTS)
    ]
    try:
        killed_at = _wait_position(server.base, KILL_AFTER_POSITION, timeout_s=30)
        server.kill()
        for client in clients:
            client.wait(timeout=30)
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()

    answers = [json.loads(line) for out in outs for line in out.read_text().splitlines()]
    succeeded = {a["key"]: a for a in answers if a.get("status") == 201}
    # Each command takes two log positions (its events and its receipt): about 25 were answered.
    assert len(succeeded) >= 10, f"too few answered before the kill: {len(succeeded)}"
    assert all(a.get("status") in (201, None) for a in answers), [a for a in answers if a.get("status") not in (201, None)]
    # The kill landed mid-load: some client was cut off before sending everything.
    assert sum(1 for a in answers if "transport_error" in a) >= 1, f"kill at position {killed_at} came after the load"

    # What is stored right after the crash, before any retry: whole, and holds every answered command.
    stored = check_whole(store_url)
    numbers_by_key: dict[str, list[int]] = defaultdict(list)
    for entry in stored["entries"]:
        numbers_by_key[entry.idempotency_key].append(entry.journal_number)
    for key, answer in succeeded.items():
        assert key in stored["receipts"], f"{key} was answered 201 but is not stored"
        assert stored["receipts"][key]["events"] == answer["events"]
        assert numbers_by_key.get(key, []) == answer["journal_numbers"], key

    # Restart; every client re-sends everything it meant to send, with the same keys.
    server.start()
    commands = [c for n in range(CLIENTS) for c in load_commands(f"c{n}", MEMBERS_PER_CLIENT)]
    with httpx.Client(base_url=server.base, timeout=15) as http:
        for command in commands:
            r = send(http, COOP, tokens[command["role"]], command)
            assert r.status_code == 201, (command["key"], r.status_code, r.text)
            if command["key"] in succeeded:
                first = succeeded[command["key"]]
                assert r.headers.get("idempotent-replayed") == "true", command["key"]
                assert (r.json()["position"], r.json()["journal_numbers"]) == (first["position"], first["journal_numbers"])
        after_retry = check_whole(store_url)
        assert len(after_retry["receipts"]) == len(commands) + 1  # + the founding
        assert len(after_retry["entries"]) == CLIENTS * MEMBERS_PER_CLIENT

        # A second full re-send, one batch request per role: every command replayed, nothing stored.
        for role in ("clerk", "treasurer"):
            batch = {
                "commands": [
                    {"command": c["command"], "idempotency_key": c["key"], "fields": c["body"]}
                    for c in commands
                    if c["role"] == role
                ]
            }
            r = http.post(f"/v1/coops/{COOP}/commands", json=batch, headers=headers(tokens[role]))
            assert r.status_code == 200, r.text
            results = r.json()["results"]
            assert len(results) == len(commands) // 2
            refused = [x for x in results if not x["accepted"]]
            assert not refused, refused[:3]
            assert all(x["duplicate"] for x in results), [x["idempotency_key"] for x in results if not x["duplicate"]][:5]
    final = check_whole(store_url)
    assert final["position"] == after_retry["position"]
    assert final["last_hash"] == after_retry["last_hash"]
