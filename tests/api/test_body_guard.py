"""The JSON body guard's depth rule at its boundary: every level counts, the innermost value's too."""

from __future__ import annotations

import json

from api.body_guard import json_problem
from api.limits import MAX_JSON_DEPTH


def _nested(levels: int, inner: object) -> bytes:
    value = inner
    for i in range(levels):
        value = [value] if i % 2 else {"a": value}
    return json.dumps(value).encode()


def test_a_body_at_the_depth_limit_passes_and_one_level_more_is_refused():
    # MAX_JSON_DEPTH - 1 containers around a number: MAX_JSON_DEPTH levels in all.
    assert json_problem(_nested(MAX_JSON_DEPTH - 1, 1)) is None
    assert json_problem(_nested(MAX_JSON_DEPTH - 1, {})) is None  # an empty container adds no level below it
    for too_deep in (_nested(MAX_JSON_DEPTH, 1), _nested(MAX_JSON_DEPTH, "x"), _nested(MAX_JSON_DEPTH, {})):
        refused = json_problem(too_deep)
        assert refused is not None and refused.rule == "max_depth", refused


def test_a_wide_shallow_body_passes_and_one_deep_branch_among_many_is_found():
    wide = {"commands": [{"fields": {"n": n, "tags": ["a", {"b": n}]}} for n in range(2000)]}
    assert json_problem(json.dumps(wide).encode()) is None
    branch: object = 1
    for _ in range(MAX_JSON_DEPTH):
        branch = [branch]
    wide["commands"][1234]["fields"]["tags"] = branch
    refused = json_problem(json.dumps(wide).encode())
    assert refused is not None and refused.rule == "max_depth"
