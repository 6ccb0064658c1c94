"""The store's JSON encoding of event states, with orjson instead of the standard library.

eventsourcing's JSONTranscoder encodes with `json.JSONEncoder`: a tenth of a batch's time on the
write path, measured with cProfile of bench.ingest. This transcoder writes the same JSON (the same
`{"_type_": name, "_data_": ...}` wrappers for dates, datetimes and decimals, keys in the same
order, UTF-8 unescaped), so stores written by either are read by both, and what the projections
read inside the database (`json_each`, `->>`) does not change. The bytes need not equal the old
encoder's: the event chain hashes the bytes as stored (ledger/chain.py), whatever they are.

Where orjson and the standard library differ, this one is made to behave like the standard one:
- dates, datetimes and dataclasses go through the registered transcodings, not orjson's own
  forms (OPT_PASSTHROUGH_*), so they read back as the same types;
- integers beyond 64 bits, which orjson refuses, fall back to the standard encoder;
- a UUID would be written by orjson as a plain string and read back as a string: no event holds
  one (the domain names things by slug; tests/ledger/test_transcoder.py checks every declared
  event's fields; eventsourcing takes the originator id out of the state before encoding).
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, default=self._encode_obj, option=_OPTIONS)
        except orjson.JSONEncodeError as exc:
            if isinstance(exc.__cause__, TranscodingNotRegisteredError):
                raise exc.__cause__ from None
            return super().encode(obj)  # an integer beyond 64 bits: the standard encoder writes it

    def decode(self, data: bytes) -> Any:
        return self._revive(orjson.loads(data))

    def _revive(self, value: Any) -> Any:
        """Turns `{"_type_": name, "_data_": ...}` wrappers back into objects, innermost first
        (as the standard decoder's object hook does), changing the containers in place.

        On every projection's path (a rebuild decodes the whole log, 630,080 calls in the whole
        benchmark): only containers are visited, tested by identity of their type, and the
        cheapest wrapper test (`"_type_" in`) comes first."""
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                inner = type(item)
                if inner is dict or inner is list:
                    value[key] = self._revive(item)
            if "_type_" in value and len(value) == 2 and "_data_" in value:
                return self._decode_obj(value)
        elif kind is list:
            for index, item in enumerate(value):
                inner = type(item)
                if inner is dict or inner is list:
                    value[index] = self._revive(item)
        return value
