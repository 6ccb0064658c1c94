"""The store's transcoder writes with orjson (ledger/transcoder.py). It must read what the
standard-library transcoder wrote, write what that one reads, and give back the same objects."""

from __future__ import annotations

import dataclasses
import typing
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, TranscodingNotRegisteredError, UUIDAsHex

import ledger.app  # noqa: F401  (every event class registered)
from domain.events import EVENT_CLASSES
from ledger.app import DateAsISO
from ledger.transcoder import OrjsonTranscoder


def _both() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    made = JSONTranscoder(), OrjsonTranscoder()
    for transcoder in made:
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
            transcoder.register(transcoding)
    return made


STATE = {
    "timestamp": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    "coop": "coop-é",
    "effective_date": date(2026, 1, 31),
    "amount": Decimal("12.50"),
    "postings": [["411", "m1", "EUR", 1250], ["512", None, "EUR", -1250]],
    "nested": {"when": [date(2025, 12, 31), {"rate": Decimal("0.2")}], "empty": {}, "flag": True},
    "label": 'quote " backslash \\ newline \n tab \t',
    "big": 2**70,  # beyond 64 bits: orjson refuses, the standard encoder writes it
}


def test_each_reads_what_the_other_wrote_and_gets_the_same_objects():
    stdlib, mine = _both()
    assert mine.decode(stdlib.encode(STATE)) == STATE
    assert stdlib.decode(mine.encode(STATE)) == STATE
    assert mine.decode(mine.encode(STATE)) == STATE
    small = {k: v for k, v in STATE.items() if k != "big"}
    assert mine.encode(small) == stdlib.encode(small)  # the same bytes, where orjson writes them


def test_an_unregistered_type_is_refused_as_by_the_standard_transcoder():
    _, mine = _both()

    class Thing:
        pass

    with pytest.raises(TranscodingNotRegisteredError):
        mine.encode({"thing": Thing()})


def _holds_uuid(hint: typing.Any) -> bool:
    return hint is uuid.UUID or any(_holds_uuid(arg) for arg in typing.get_args(hint))


def test_no_event_field_holds_a_uuid():
    """orjson writes a UUID as a plain string, read back as a string: no event may hold one."""
    assert len(EVENT_CLASSES) > 40
    offenders = [
        f"{name}.{field}"
        for name, cls in EVENT_CLASSES.items()
        for field, hint in typing.get_type_hints(cls).items()
        if field in {f.name for f in dataclasses.fields(cls)} - {"originator_id"} and _holds_uuid(hint)
    ]
    assert offenders == []
