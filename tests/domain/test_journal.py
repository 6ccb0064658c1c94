"""The journal's own checks: entries balance per unit; the hash chain covers every field."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.errors import IntegrityViolation
from domain.journal import GENESIS_HASH, check_balanced, entry_hash


@pytest.mark.parametrize(
    "postings",
    [
        [["512", None, "EUR", 100], ["7561", None, "EUR", -100]],
        [["512", None, "EUR", 100], ["411", "m1", "EUR", -60], ["411", "m2", "EUR", -40]],
        # Balanced in each unit separately.
        [["512", None, "EUR", 100], ["7561", None, "EUR", -100], ["4672", "h1", "CREDIT", -5], ["6571", None, "CREDIT", 5]],
    ],
)
def test_balanced_entries_pass(postings):
    check_balanced(postings, "entry 1")


@pytest.mark.parametrize(
    ("postings", "message"),
    [
        ([["512", None, "EUR", 100], ["7561", None, "EUR", -99]], "does not balance"),
        # EUR and CREDIT each unbalanced although the sum over units is zero: units never mix.
        ([["512", None, "EUR", 100], ["4672", None, "CREDIT", -100]], "does not balance"),
        ([["512", None, "EUR", 0], ["7561", None, "EUR", 0]], "non-zero integer"),
        ([["512", None, "EUR", 1.0], ["7561", None, "EUR", -1.0]], "non-zero integer"),
        ([["512", None, "EUR", True], ["7561", None, "EUR", -1]], "non-zero integer"),
        ([["512", None, "EUR", 100]], "at least two postings"),
        ([], "at least two postings"),
    ],
)
def test_unbalanced_or_malformed_entries_are_integrity_violations(postings, message):
    with pytest.raises(IntegrityViolation, match=message):
        check_balanced(postings, "entry 7")


BASE = dict(
    prev_hash=GENESIS_HASH,
    coop="demo",
    number=1,
    kind="FeeCalled",
    effective_date=date(2020, 2, 1),
    recorded_at=datetime(2020, 2, 1, 10, 0, tzinfo=UTC),
    label="Cotisation 2020 – m1",
    postings=[["411", "m1", "EUR", 10000], ["7561", None, "EUR", -10000]],
)


def test_hash_is_deterministic_sha256_hex():
    h = entry_hash(**BASE)
    assert h == entry_hash(**dict(BASE))
    assert len(h) == 64 and int(h, 16) >= 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prev_hash", "1" * 64),
        ("coop", "other"),
        ("number", 2),
        ("kind", "FeePaid"),
        ("effective_date", date(2020, 2, 2)),
        ("recorded_at", datetime(2020, 2, 1, 10, 0, 0, 1, tzinfo=UTC)),
        ("label", "Cotisation 2020 – m1 "),
        ("postings", [["411", "m1", "EUR", 10001], ["7561", None, "EUR", -10001]]),
        ("postings", [["411", "m2", "EUR", 10000], ["7561", None, "EUR", -10000]]),
        ("postings", [["7561", None, "EUR", -10000], ["411", "m1", "EUR", 10000]]),  # order matters
    ],
)
def test_changing_any_field_changes_the_hash(field, value):
    assert entry_hash(**{**BASE, field: value}) != entry_hash(**BASE)
