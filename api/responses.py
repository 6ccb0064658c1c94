"""JSON responses rendered by orjson. FastAPI deprecates its own OrjsonResponse (each use logs a
DeprecationWarning traceback in a running server); this is the same few lines, kept here.

`Answer` is for the hottest reads (docs/decisions/0017-reads-answer-their-bytes.md): the route
builds its answer in the wire's form and returns it as an `Answer`, which FastAPI sends as is,
without validating it against the route's response model and serialising it again (a quarter of
a millisecond per read, as much as the read's own query). The route still declares
`response_model=` (the OpenAPI document's schema) and `response_class=Answer`; the guarantee the
validation gave moves to a test: tests/api/test_fast_answers.py finds every route declaring
`response_class=Answer` and checks the bytes it sends against its model (no undeclared key, every
declared one, the types the model would have written).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class Answer(OrjsonResponse):
    """A read's answer already in its wire form (a dict, or bytes encoded earlier), sent as is."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else orjson.dumps(content)
