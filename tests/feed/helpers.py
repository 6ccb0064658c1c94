"""Shared by the feed tests: a history to follow, a live server on a loopback port, an SSE reader,
and the facts the event log says the feed must hold (read from the log, not from the feed)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import orjson
import uvicorn

from domain.events import EVENT_CLASSES, CoopEvent
from domain.fees import CallFee, PayFee
from domain.membership import AdmitMember
from ledger.service import Ledger
from tests.builders import found_association

COOP, OTHER = "suivi", "autre"
NAMES = ("Alice Martin", "Bruno Petit", "Chloé Durand", "David Leroy")


def setup_commands(coop: str = COOP) -> list[Any]:
    """Founding, four named members, their 2020 fees called: 1 + 4 + 4 facts, 4 entries."""
    commands: list[Any] = [found_association(coop)]
    for i, name in enumerate(NAMES):
        commands.append(AdmitMember(coop, f"m{i}", name, "person", "users", date(2020, 2, 1)))
        commands.append(CallFee(coop, f"m{i}", 2020, date(2020, 2, 1)))
    return commands


def payment(i: int, coop: str = COOP) -> PayFee:
    """The i-th of many 1-euro partial payments (each one entry); 400 fit under the fees called."""
    assert 0 <= i < 400
    return PayFee(coop, f"m{i % 4}", 2020, Decimal("1"), date(2020, 3, 1))


def record(ledger: Ledger, commands: list[Any], prefix: str) -> int:
    """Records commands, all accepted; returns the last position."""
    results = ledger.execute_batch([(c, f"{prefix}-{i}", "test") for i, c in enumerate(commands)])
    assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]
    return max(r.position for r in results if r.position is not None)


def log_facts(ledger: Ledger, coop: str) -> list[tuple[int, str, int | None]]:
    """(position, event name, journal number) of every event of `coop`, read from the event log."""
    recorder, mapper = ledger.app.recorder, ledger.app.mapper
    topics = sorted(cls.TOPIC for cls in EVENT_CLASSES.values())
    found, start = [], 1
    for _ in range(1000):  # bounded: 1000 pages of 500
        batch = recorder.select_notifications(start=start, limit=500, topics=topics)
        for n in batch:
            event = mapper.to_domain_event(n)
            if isinstance(event, CoopEvent) and event.coop == coop:
                found.append((n.id, type(event).__name__, getattr(event, "journal_number", None)))
        if len(batch) < 500:
            return found
        start = batch[-1].id + 1
    raise AssertionError("event log longer than the test expects")


class LiveServer:
    """The app served by uvicorn in a thread, on a loopback port chosen by the system."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Parses a text/event-stream: yields {"id", "event", "data"} per event, {"comment"} per comment."""
    event: dict[str, Any] = {}
    for line in response.iter_lines():
        if line == "":
            if event:
                yield event
            event = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            event[name] = orjson.loads(value) if name == "data" else value


def follow(
    url: str,
    token: str,
    coop: str,
    *,
    last_id: int | None,
    stop_after: int | None,
    until_position: int | None,
    timeout_s: float = 20,
    params: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Opens the stream, collects facts until `stop_after` facts (then drops the connection, as a
    crash would) or until the fact at `until_position`. Returns (facts, comments seen)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    facts, comments = [], 0
    deadline = time.monotonic() + timeout_s
    with (
        httpx.Client(timeout=httpx.Timeout(timeout_s)) as client,
        client.stream("GET", f"{url}/v1/coops/{coop}/feed", headers=headers, params=params or {}) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in sse_events(response):
            assert time.monotonic() < deadline, f"feed too slow: {len(facts)} facts"
            if "comment" in event:
                comments += 1
                if stop_after is None and until_position is None:
                    break
                continue
            if "data" not in event:
                continue  # the retry: line
            assert int(event["id"]) == event["data"]["position"] and event["event"] == event["data"]["kind"]
            facts.append(event["data"])
            if stop_after is not None and len(facts) >= stop_after:
                break
            if until_position is not None and event["data"]["position"] >= until_position:
                break
    return facts, comments
