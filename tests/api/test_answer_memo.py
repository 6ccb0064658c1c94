"""Answers remembered by the rows they were made from (api/answer_memo.py): never one made from
other rows, bounded in entries and bytes; and the governance route, which uses it, still reads
its own writes (a memo keyed by the cooperative and the date alone would answer the old weights)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.concurrency import run_in_threadpool

from api.answer_memo import AnswerMemo
from api.app import create_app
from api.keys import create_key
from ledger.store import StoreConfig
from tests.conftest import migrates_the_store

ROWS = [(0, "", 0, "scic", "1", None, None, None), (3, "", 0, "m1", "Alice", "2025-02-01", None, None)]


class Maker:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return f"answer {self.calls}".encode()


def test_equal_rows_get_the_answer_made_once_other_rows_a_new_one():
    memo, make = AnswerMemo(), Maker()
    first = memo.answer(("coop", "2026-06-30"), ROWS, make)
    assert memo.answer(("coop", "2026-06-30"), [tuple(r) for r in ROWS], make) == first and make.calls == 1
    changed = [ROWS[0], (*ROWS[1][:4], "Alicia", *ROWS[1][5:])]  # one value differs
    assert memo.answer(("coop", "2026-06-30"), changed, make) == b"answer 2"
    assert memo.answer(("coop", "2026-07-01"), ROWS, make) == b"answer 3"  # another input
    assert memo.answer(("coop", "2026-06-30"), [*ROWS, (6, "", 0, "m1", "100", "0", None, None)], make) == b"answer 4"
    assert memo.answer(("coop", "2026-06-30"), ROWS, make) == first and make.calls == 4


def test_decimal_values_key_exactly_and_never_as_the_same_digits_in_text():
    from decimal import Decimal

    memo, make = AnswerMemo(), Maker()
    first = memo.answer(("coop",), [("411", Decimal("150"))], make)
    assert memo.answer(("coop",), [("411", Decimal("150"))], make) == first and make.calls == 1
    assert memo.answer(("coop",), [("411", "150")], make) == b"answer 2"  # text, not the number
    assert memo.answer(("coop",), [("411", Decimal("150.0"))], make) == b"answer 3"  # other digits: made again
    assert memo.answer(("coop",), [("411", object())], make) == b"answer 4" and len(memo) == 3  # not keyable: made


def test_an_answer_that_failed_is_not_remembered():
    memo, calls = AnswerMemo(), []

    def fails() -> bytes:
        calls.append(1)
        raise LookupError("no cooperative")

    for _ in range(2):
        with pytest.raises(LookupError):
            memo.answer(("coop",), ROWS, fails)
    assert len(calls) == 2 and len(memo) == 0


def test_entries_and_bytes_are_bounded_the_least_recently_used_forgotten_first():
    memo, make = AnswerMemo(max_entries=2), Maker()
    for day in ("a", "b"):
        memo.answer((day,), ROWS, make)
    memo.answer(("a",), ROWS, make)  # used again: "b" is now the oldest
    memo.answer(("c",), ROWS, make)
    assert len(memo) == 2 and make.calls == 3
    memo.answer(("a",), ROWS, make)
    assert make.calls == 3  # still remembered
    memo.answer(("b",), ROWS, make)
    assert make.calls == 4  # forgotten, made again

    entry = len(orjson.dumps([("a",), ROWS])) + len(b"answer 1")  # a key and its answer
    small = AnswerMemo(max_bytes=entry * 5 // 2)
    for day in "abcdef":
        small.answer((day,), ROWS, Maker())
    assert len(small) == 2

    unkept = AnswerMemo(max_key_bytes=50)
    make = Maker()
    for _ in range(2):
        unkept.answer(("a",), ROWS, make)
    assert make.calls == 2 and len(unkept) == 0


FOUND = {
    "name": "Coop A",
    "legal_form": "association",
    "founded_on": "2025-01-01",
    "colleges": [{"code": "users", "name": "Usagers", "weight": "60"}, {"code": "staff", "name": "Salariés", "weight": "40"}],
    "fee_schedule": [{"min_headcount": 1, "max_headcount": None, "amount": "100"}],
}


@pytest.fixture
@migrates_the_store
def api(store_url: str) -> Iterator[dict[str, Any]]:
    app = create_app(StoreConfig.from_url(store_url))
    with TestClient(app) as client:
        keys = {role: create_key(app.state.services.ledger.db, role=role, coops=["coop-a"])[1] for role in ("admin", "treasurer")}
        yield {"app": app, "client": client, **{role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}}


def _command(api: dict[str, Any], name: str, body: dict[str, Any]) -> int:
    role = "treasurer" if "Fee" in name else "admin"
    headers = {**api[role], "Idempotency-Key": f"{name}-{len(str(body))}"}
    r = api["client"].post(f"/v1/coops/coop-a/commands/{name}", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["position"])


def _a_member_with_a_fee_called(api: dict[str, Any]) -> int:
    """coop-a founded, Alice admitted, her 2025 fee called (not paid): the position of the call."""
    _command(api, "FoundCooperative", FOUND)
    _command(
        api,
        "AdmitMember",
        {"member_id": "m1", "name": "Alice", "kind": "person", "college": "users", "effective_date": "2025-02-01"},
    )
    return _command(api, "CallFee", {"member_id": "m1", "year": 2025, "effective_date": "2025-02-01"})


def _weights(api: dict[str, Any], position: int) -> Any:
    r = api["client"].get(
        "/v1/coops/coop-a/governance", params={"as_of": "2025-06-01", "min_position": position}, headers=api["admin"]
    )
    assert r.status_code == 200, r.text
    return r


def test_the_governance_route_reads_its_own_writes_through_the_memo(api):
    called = _a_member_with_a_fee_called(api)
    before = _weights(api, called)
    assert before.json()["voters"] == [] and before.json()["unassigned_weight"] == "100"  # the fee is not paid
    assert _weights(api, called).content == before.content and len(api["app"].state.services.answers) == 1

    paid = _command(api, "PayFee", {"member_id": "m1", "year": 2025, "amount": "100", "effective_date": "2025-03-01"})
    after = _weights(api, paid).json()  # same cooperative and date, other rows: not the remembered answer
    assert [v["member_id"] for v in after["voters"]] == ["m1"] and after["voters_total_weight"] == "100"
    assert len(api["app"].state.services.answers) == 2


def test_a_large_cooperative_s_answer_is_made_in_a_worker_thread_the_same(api, monkeypatch):
    import api.routes_queries as routes

    _command(api, "FoundCooperative", FOUND)
    admitted = _command(
        api,
        "AdmitMember",
        {"member_id": "m1", "name": "Alice", "kind": "person", "college": "users", "effective_date": "2025-02-01"},
    )
    on_the_loop = _weights(api, admitted).content
    api["app"].state.services.answers = AnswerMemo()  # made again, not remembered
    hops = []

    async def counted(fn: Any, *args: Any) -> Any:
        hops.append(fn)
        return await run_in_threadpool(fn, *args)

    monkeypatch.setattr(routes, "GOVERNANCE_LOOP_ROWS", 0)
    monkeypatch.setattr(routes, "run_in_threadpool", counted)
    assert _weights(api, admitted).content == on_the_loop and len(hops) == 1


def test_the_trial_balance_and_the_statement_read_their_own_writes_through_the_memo(api):
    called = _a_member_with_a_fee_called(api)

    def read(what: str, position: int) -> Any:
        r = api["client"].get(f"/v1/coops/coop-a/{what}", params={"min_position": position}, headers=api["admin"])
        assert r.status_code == 200, r.text
        return r

    trial, statement = read("trial-balance", called), read("accounts/411/statement", called)
    memo = api["app"].state.services.answers
    kept = len(memo)
    assert (
        read("trial-balance", called).content == trial.content
        and read("accounts/411/statement", called).content == statement.content
    )
    assert len(memo) == kept == 2  # each made once, then answered from the memo

    paid = _command(api, "PayFee", {"member_id": "m1", "year": 2025, "amount": "100", "effective_date": "2025-03-01"})
    lines = read("accounts/411/statement", paid).json()["lines"]  # same request, other rows: a new answer
    assert [(line["debit"], line["credit"]) for line in lines] == [("100.00", "0.00"), ("0.00", "100.00")]
    assert lines[-1]["balance"] == "0.00"
    banked = {row["account"]: row["balance"] for row in read("trial-balance", paid).json()["accounts"] if row["unit"] == "EUR"}
    assert banked["411"] == "0.00" and banked["512"] == "100.00" and len(memo) == 4
