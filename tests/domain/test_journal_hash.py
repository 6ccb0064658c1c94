"""Entry hashes are computed over `canonical_json`, written with orjson since it is faster; every
hash recorded before was computed over the standard library's bytes. They must be the same bytes,
or `verify` would refuse every journal written before the change."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from domain.journal import canonical_json


def _stdlib(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_every_code_point_is_written_as_the_standard_library_writes_it():
    code_points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(code_points), 4096):
        text = "".join(map(chr, code_points[start : start + 4096]))
        content = {"label": text, "postings": [["411", text, "EUR", 1]]}
        assert canonical_json(content) == _stdlib(content), f"code points from {code_points[start]:#x}"


postings = st.lists(
    st.tuples(
        st.text(max_size=8), st.one_of(st.none(), st.text(max_size=12)), st.sampled_from(["EUR", "HOUR", "CREDIT"]), st.integers()
    ).map(list),
    max_size=6,
)


@given(
    coop=st.text(max_size=20),
    number=st.integers(min_value=1),
    label=st.text(),  # lone surrogates included: orjson refuses them, the fallback writes them
    postings=postings,
)
def test_generated_entries_give_the_standard_library_bytes(coop, number, label, postings):
    content = {
        "coop": coop,
        "number": number,
        "kind": "FeePaid",
        "effective_date": "2026-01-31",
        "recorded_at": "2026-02-01T10:00:00.123456+00:00",
        "label": label,
        "postings": postings,  # integers beyond 64 bits included: orjson refuses them too
    }
    assert canonical_json(content) == _stdlib(content)
