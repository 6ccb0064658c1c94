"""Fault 4: two server processes write to the same cooperative and the same accounts at once.

Raced: calls for projects that each fit the cooperation fund alone but not all together, awards
that each fit a call's envelope alone but not all together, and a stream of admissions and fee
calls from several clients on both servers. Checked: exactly the allowed ones are accepted (the
others refused naming the field and the rule), the fund and the envelope are never overspent,
no update is lost, and the journal stays numbered 1..N with its chain whole. Clients re-send a
503 write_contention with the same key, as documented (it happens when the other process keeps
saving first past the retries); a re-sent command is still recorded once.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from domain.contributions import DeclareContributionResult, PayContribution, PledgeContribution
from domain.grants import OpenCall, RecordApplication
from tests.builders import admit
from tests.reliability.harness import COOP, check_whole, headers, open_ledger, seed

D = Decimal
RACERS = 6
FUND_FREE_EUR = 10_000  # 20,000 paid into the fund, 10,000 reserved by call C1
CALL_ENVELOPE_EUR, AWARD_EUR = 10_000, 4_000  # two awards fit C1's envelope, not three
NEW_CALL_EUR = 3_000  # three new calls fit what the fund has free, not four
MEMBERS_PER_CLIENT = 8


def _prepare(url: str) -> None:
    ledger = open_ledger(url)
    try:
        commands: list[Any] = [
            admit(COOP, "alice", "founders", date(2020, 2, 1)),
            PledgeContribution(COOP, "P1", "alice", "10", 2020, date(2020, 3, 1)),
            DeclareContributionResult(COOP, "P1", 2020, D("200000"), date(2021, 1, 15)),
            PayContribution(COOP, "P1", 2020, D("20000"), date(2021, 2, 1)),
            OpenCall(COOP, "C1", "Appel C1", D(CALL_ENVELOPE_EUR), D("2000"), D("5000"), RACERS, date(2021, 3, 1)),
            *[
                RecordApplication(COOP, "C1", f"A{i}", f"Projet {i}", date(2021, 3, 5), applicant=f"Collectif {i}")
                for i in range(RACERS)
            ],
        ]
        for i, command in enumerate(commands):
            assert ledger.execute(command, f"prepare-{i}").accepted, command
    finally:
        ledger.close()


RETRYABLE_503 = {"write_contention", "database_unavailable"}


def _send(http: httpx.Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    """Posts, re-sending with the same key while the answer is 503, at most 20 times: write_contention
    (the other process kept saving first) or database_unavailable (on a loaded machine a pooled
    connection can take longer than its wait to come): both documented as "retry with the same
    Idempotency-Key, recorded at most once", which is what the end of the test checks."""
    for _ in range(20):
        r = http.post(url, json=body, headers=headers)
        if r.status_code != 503:
            return r
        assert r.json()["rule"] in RETRYABLE_503 and r.headers["retry-after"], r.text
        time.sleep(0.05)
    return r


def _race(bases: list[str], token: str, requests: list[tuple[str, dict[str, Any], str]]) -> list[httpx.Response]:
    """Sends the requests at once (a barrier), alternating between the servers."""
    start = threading.Barrier(len(requests))

    def send(i: int) -> httpx.Response:
        command, body, key = requests[i]
        start.wait(timeout=30)
        with httpx.Client(timeout=30) as http:
            return _send(http, f"{bases[i % len(bases)]}/v1/coops/{COOP}/commands/{command}", body, headers(token, key))

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, range(len(requests))))


def _admit_and_call(base: str, tokens: dict[str, str], prefix: str) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for i in range(MEMBERS_PER_CLIENT):
            member = f"{prefix}-{i}"
            for command, role, body in (
                (
                    "AdmitMember",
                    "clerk",
                    {
                        "member_id": member,
                        "name": f"Member {member}",
                        "kind": "person",
                        "college": "users",
                        "effective_date": "2020-02-01",
                    },
                ),
                ("CallFee", "treasurer", {"member_id": member, "year": 2020, "effective_date": "2020-02-01"}),
            ):
                r = _send(http, f"/v1/coops/{COOP}/commands/{command}", body, headers(tokens[role], f"{command}-{member}"))
                statuses.append(r.status_code)
    return statuses


def test_two_servers_racing_never_overspend_and_lose_nothing(store_url, servers):
    tokens = seed(store_url)
    _prepare(store_url)
    bases = [servers(store_url).start().base for _ in range(2)]

    awards = _race(
        bases,
        tokens["treasurer"],
        [
            ("AwardGrant", {"application_id": f"A{i}", "amount": str(AWARD_EUR), "effective_date": "2021-04-01"}, f"award-{i}")
            for i in range(RACERS)
        ],
    )
    calls = _race(
        bases,
        tokens["treasurer"],
        [
            (
                "OpenCall",
                {
                    "call_id": f"N{i}",
                    "title": f"Appel N{i}",
                    "envelope": str(NEW_CALL_EUR),
                    "min_award": "500",
                    "max_award": "1000",
                    "max_laureates": 3,
                    "effective_date": "2021-04-01",
                },
                f"call-{i}",
            )
            for i in range(RACERS)
        ],
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        streams = list(pool.map(lambda c: _admit_and_call(bases[c % 2], tokens, f"s{c}"), range(4)))

    for responses, allowed, field, rule in (
        (awards, CALL_ENVELOPE_EUR // AWARD_EUR, "amount", "envelope"),
        (calls, FUND_FREE_EUR // NEW_CALL_EUR, "envelope", "envelope_available"),
    ):
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] * allowed + [422] * (RACERS - allowed), [r.text for r in responses]
        for r in responses:
            if r.status_code == 422:
                assert (r.json()["field"], r.json()["rule"]) == (field, rule), r.text
    assert all(s == 201 for stream in streams for s in stream), streams

    stored = check_whole(store_url)  # journal 1..N, chain verified, every command whole
    # 4 preparing entries (contribution declared/paid...) are counted from the store itself.
    awarded = [e for e in stored["events"] if e.kind == "GrantAwarded"]
    assert len(awarded) == CALL_ENVELOPE_EUR // AWARD_EUR
    ledger = open_ledger(store_url)
    try:
        coop = ledger.cooperative(COOP)
        c1 = coop.grants.calls["C1"]
        assert sum(g.awarded_cents for g in c1.grants.values()) == 2 * AWARD_EUR * 100 <= c1.envelope_cents
        new_calls = [c for c in coop.grants.calls if c.startswith("N")]
        assert len(new_calls) == FUND_FREE_EUR // NEW_CALL_EUR
        fund = coop.grants.pots["fund"]
        assert fund.lowest_from(date(2021, 4, 1), lambda f: f.available_cents) >= 0
        members = [m for m in coop.members if m.startswith("s")]
        assert len(members) == 4 * MEMBERS_PER_CLIENT  # no lost update
        assert len([k for k in coop.fee_calls if k[0].startswith("s")]) == 4 * MEMBERS_PER_CLIENT
    finally:
        ledger.close()
