"""A load client run as its own process: sends one member's AdmitMember then CallFee, member
after member, each with its own idempotency key, and writes one JSON line per command it got
an answer to. It stops at the first transport error (the server was killed).

    python -m tests.reliability.load_client BASE_URL PREFIX COUNT OUT_FILE
    (tokens in COOPLEDGER_TEST_CLERK_TOKEN and COOPLEDGER_TEST_TREASURER_TOKEN)

Deliberately light (httpx and json only) so that it starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import httpx

COLLEGES = ("founders", "users", "partners", "staff")


def load_commands(prefix: str, count: int) -> list[dict[str, Any]]:
    """The commands a client sends, in order: the test re-sends exactly these."""
    commands = []
    for i in range(count):
        member = f"{prefix}-m{i}"
        commands.append(
            {
                "command": "AdmitMember",
                "key": f"admit-{member}",
                "role": "clerk",
                "body": {
                    "member_id": member,
                    "name": f"Member {member}",
                    "kind": "person",
                    "college": COLLEGES[i % 4],
                    "effective_date": "2020-02-01",
                },
            }
        )
        commands.append(
            {
                "command": "CallFee",
                "key": f"call-{member}",
                "role": "treasurer",
                "body": {"member_id": member, "year": 2020, "effective_date": "2020-02-01"},
            }
        )
    return commands


def send(client: httpx.Client, coop: str, token: str, command: dict[str, Any]) -> httpx.Response:
    return client.post(
        f"/v1/coops/{coop}/commands/{command['command']}",
        json=command["body"],
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": command["key"]},
    )


def main() -> None:
    base, prefix, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    tokens = {"clerk": os.environ["COOPLEDGER_TEST_CLERK_TOKEN"], "treasurer": os.environ["COOPLEDGER_TEST_TREASURER_TOKEN"]}
    with open(out, "w") as f, httpx.Client(base_url=base, timeout=10) as client:
        for command in load_commands(prefix, count):
            try:
                r = send(client, "demo", tokens[command["role"]], command)
            except httpx.HTTPError as exc:
                f.write(json.dumps({"key": command["key"], "transport_error": type(exc).__name__}) + "\n")
                return
            body = r.json() if r.headers.get("content-type", "").endswith("json") else {}
            f.write(
                json.dumps(
                    {
                        "key": command["key"],
                        "status": r.status_code,
                        "position": body.get("position"),
                        "journal_numbers": body.get("journal_numbers"),
                        "events": body.get("events"),
                    }
                )
                + "\n"
            )
            f.flush()


if __name__ == "__main__":
    main()
