"""Fault 5: hostile request bodies against the command routes and the batch route (hypothesis; the
schema-driven fuzzing is tests/api/test_schemathesis.py, these are the generators it lacks).

Generated: one field of a valid command replaced by a huge or negative integer, -0, NaN, Infinity,
1e400 (written as raw JSON tokens), a float, a string with NUL, control characters or a lone
surrogate, a wrong type, a deeply nested value, or the field given twice with different values;
whole bodies that are too deep, too large (with and without Content-Length), not UTF-8 or not JSON.

Checked: never a 5xx; always a 4xx problem+json whose `field` names the field at fault (or `body`
for what concerns the body as a whole) and whose detail says why; nothing recorded by a refused
command; and the projections still run afterwards (no stored event they cannot project).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.keys import create_key
from api.limits import MAX_BODY_BYTES
from domain.membership import AdmitMember
from ledger.store import StoreConfig
from tests.builders import FOUNDED_ON, found_association
from tests.conftest import migrates_the_store

COOP = "demo"


class Raw:
    """A JSON token written as is: NaN, Infinity, 1e400 cannot come out of json.dumps."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return f"Raw({self.token[:40]!r})"


class Twice:
    """A field given twice in one object, with two different values."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second

    def __repr__(self) -> str:
        return f"Twice({self.first!r}, {self.second!r})"


def render(value: Any) -> str:
    """JSON text with Raw tokens and Twice fields; strings escaped (lone surrogates as \\udXXX)."""
    if isinstance(value, Raw):
        return value.token
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if isinstance(item, Twice):
                parts += [f"{json.dumps(key)}: {render(item.first)}", f"{json.dumps(key)}: {render(item.second)}"]
            else:
                parts.append(f"{json.dumps(key)}: {render(item)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, float):  # Python's own spellings, as json.dumps writes them
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}.get(repr(value), repr(value))
    return json.dumps(value)


# Values no field of a command may take: every one must be refused.
BAD_TEXT = st.one_of(
    st.builds(
        lambda a, b, c: a + c + b,
        st.text(max_size=5),
        st.text(max_size=5),
        st.sampled_from(["\x00", "\x07", "\x1b", "\ud800", "\udfff", "\udc00x"]),
    )
)
HOSTILE = st.one_of(
    st.sampled_from(
        [
            Raw("NaN"),
            Raw("Infinity"),
            Raw("-Infinity"),
            Raw("1e400"),
            Raw("-1e400"),
            Raw("-0.0"),
            Raw("9" * 5000),
            Raw("1" + "0" * 400),
        ]
    ),
    st.integers(min_value=2**31, max_value=2**256) | st.integers(min_value=-(2**256), max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True),
    BAD_TEXT,
    st.recursive(
        st.none() | st.booleans(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=6,
    ).filter(lambda v: v is not None),
    st.integers(min_value=40, max_value=3000).map(lambda depth: Raw("[" * depth + "]" * depth)),
)

VALID = {
    "AdmitMember": {
        "member_id": "m-new",
        "name": "Nouveau membre",
        "kind": "person",
        "college": "users",
        "effective_date": "2020-03-01",
    },
    "PayFee": {"member_id": "alice", "year": 2020, "amount": "10.00", "effective_date": "2020-03-01"},
    "RecordEntry": {
        "label": "Frais bancaires",
        "effective_date": "2020-03-01",
        "piece_ref": "REL-1",
        "lines": [{"account": "627", "unit": "EUR", "debit": "1.50"}, {"account": "512", "unit": "EUR", "credit": "1.50"}],
    },
}
ROLE = {"AdmitMember": "clerk", "PayFee": "treasurer", "RecordEntry": "treasurer"}


@pytest.fixture
@migrates_the_store
def api(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        ledger = app.state.services.ledger
        assert ledger.execute(found_association(COOP), "found").accepted
        assert ledger.execute(AdmitMember(COOP, "alice", "Alice", "person", "users", FOUNDED_ON), "alice").accepted
        tokens = {role: create_key(ledger.db, role=role, coops=[COOP])[1] for role in ("clerk", "treasurer")}
        yield {"client": client, "tokens": tokens, "ledger": ledger, "runner": app.state.services.runner}


def _post(api: dict[str, Any], path: str, content: Any, role: str, key: str) -> Any:
    headers = {"Authorization": f"Bearer {api['tokens'][role]}", "Idempotency-Key": key, "Content-Type": "application/json"}
    return api["client"].post(f"/v1/coops/{COOP}/commands{path}", content=content, headers=headers)


def _refused(r: Any, field: str) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    problem = r.json()
    assert problem["status"] == r.status_code and problem["detail"], problem
    if r.status_code == 413:  # api/app.py refuses a large Content-Length before reading: no field there
        assert problem["rule"] == "max_body_bytes", problem
        return
    named = problem.get("field") or ""
    assert named == "body" or named.split(".")[0].split("[")[0] == field, (field, problem)


def _still_projecting(api: dict[str, Any]) -> None:
    """The views still follow the log: nothing stored that a projection cannot take."""
    ledger, runner = api["ledger"], api["runner"]
    assert runner.wait_for(ledger.position(), timeout_s=10), runner.last_error
    assert runner.last_error is None


def _a_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= 10**18
    return isinstance(value, float) and math.isfinite(value) and value >= 0


def test_a_hostile_field_is_refused_naming_it(api):
    recorded = api["ledger"].position()
    counter = iter(range(1_000_000))

    @given(command=st.sampled_from(sorted(VALID)), data=st.data(), value=HOSTILE, twice=st.booleans())
    @settings(max_examples=60, deadline=None)
    def run(command: str, data: st.DataObject, value: Any, twice: bool) -> None:
        body = dict(VALID[command])
        field = data.draw(st.sampled_from(sorted(body)))
        # A finite, non-negative JSON number is an amount's own form (read exactly): not hostile there.
        assume(not (field == "amount" and _a_number(value)))
        # The field given twice (first its valid value, then the hostile one), or replaced.
        body[field] = Twice(body[field], value) if twice else value
        r = _post(api, f"/{command}", render(body), ROLE[command], f"hostile-{next(counter)}")
        _refused(r, field)
        if twice:
            assert r.json()["rule"] in ("duplicate_key", "max_depth", "number_too_long"), r.json()

    run()
    assert api["ledger"].position() == recorded, "a refused command recorded something"
    _still_projecting(api)


def test_hostile_fields_in_a_batch_are_refused_one_by_one(api):
    counter = iter(range(1_000_000))

    @given(values=st.lists(HOSTILE, min_size=1, max_size=4))
    @settings(max_examples=15, deadline=None)
    def run(values: list[Any]) -> None:
        items = []
        for value in values:
            n = next(counter)
            items.append(
                {
                    "command": "AdmitMember",
                    "idempotency_key": f"batch-{n}",
                    "fields": {**VALID["AdmitMember"], "member_id": f"b{n}", "name": value},
                }
            )
        items.append(
            {
                "command": "AdmitMember",
                "idempotency_key": f"batch-ok-{next(counter)}",
                "fields": {**VALID["AdmitMember"], "member_id": f"ok{next(counter)}"},
            }
        )
        r = _post(api, "", render({"commands": items}), "clerk", "unused")
        if r.status_code != 200:  # the body as a whole refused (e.g. too deep): a problem naming it
            _refused(r, "commands")
            return
        results = r.json()["results"]
        assert [x["accepted"] for x in results] == [False] * len(values) + [True], results
        for x in results[:-1]:
            assert x["error"]["field"].startswith("name") and x["error"]["message"], x

    run()
    _still_projecting(api)


def test_hostile_bodies_are_refused_as_a_whole(api):
    member = VALID["AdmitMember"]
    bodies: dict[str, Any] = {
        "deep": "[" * 100_000 + "]" * 100_000,
        "not_utf8": b'{"name": "\xff\xfe"}',
        "not_json": '{"member_id": "m1",',
        "too_large": json.dumps({**member, "name": "x" * (MAX_BODY_BYTES + 1)}),
        "too_large_chunked": (b"x" * 65_536 for _ in range(MAX_BODY_BYTES // 65_536 + 2)),  # no Content-Length
        "huge_number": '{"headcount": ' + "9" * 10_000 + "}",
    }
    for kind, content in bodies.items():
        started = time.monotonic()
        r = _post(api, "/AdmitMember", content, "clerk", f"whole-{kind}")
        assert time.monotonic() - started < 5, kind
        _refused(r, "body")
        assert r.status_code in (413, 422) and r.json().get("field") in ("body", None), (kind, r.text)
        if kind.startswith("too_large"):
            assert r.status_code == 413 and r.json()["rule"] == "max_body_bytes", kind
