"""Answers remembered by the rows they were computed from, for reads whose answer is a pure
function of the rows one statement returned (governance weights: a few dozen rows, and a
millisecond of exact-fraction arithmetic and formatting to make them an answer).

Never stale: the key is the request's own rows, read in its own snapshot (after `min_position`
was waited for), serialised whole, with every other input of the function (the cooperative, the
date). A remembered answer is served only for rows equal to those it was made from, so it is
the answer the function would give now; what it saves is the arithmetic, never the read.

Bounded: at most `max_entries` answers and `max_bytes` of keys and answers together, the least
recently used forgotten first; rows whose serialised form exceeds `max_key_bytes` (a cooperative
of thousands of members) are not remembered at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import orjson


class AnswerMemo:
    def __init__(self, *, max_entries: int = 64, max_bytes: int = 8 << 20, max_key_bytes: int = 256 << 10) -> None:
        self.max_entries, self.max_bytes, self.max_key_bytes = max_entries, max_bytes, max_key_bytes
        self._answers: OrderedDict[bytes, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # the routes run on the event loop, but an app may be served by several threads

    def answer(self, inputs: Sequence[Any], rows: Sequence[Sequence[Any]], make: Callable[[], bytes]) -> bytes:
        """`make()`, or the bytes it returned before for equal `inputs` and `rows` (JSON-serialisable:
        strings, numbers, None; the rows as the database returned them)."""
        try:
            key = orjson.dumps([inputs, rows], default=_exact)
        except orjson.JSONEncodeError:  # a value JSON cannot say exactly (an integer beyond 64 bits): not remembered
            return make()
        if len(key) > self.max_key_bytes:
            return make()
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
                return found
        made = make()
        with self._lock:
            if key not in self._answers:
                self._answers[key] = made
                self._bytes += len(key) + len(made)
                while len(self._answers) > self.max_entries or self._bytes > self.max_bytes:
                    old_key, old = self._answers.popitem(last=False)
                    self._bytes -= len(old_key) + len(old)
        return made

    def __len__(self) -> int:
        return len(self._answers)


def _exact(value: Any) -> Any:
    """A value orjson cannot write itself, in an exact form: PostgreSQL's SUM of integers is a
    numeric (a Decimal here), and its digits are the value. Anything else is not remembered."""
    if type(value) is Decimal:
        return {"decimal": str(value)}  # tagged: never equal to a string column holding the same digits
    raise TypeError(type(value).__name__)
