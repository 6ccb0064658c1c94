"""JSON responses rendered by orjson. FastAPI deprecates its own OrjsonResponse (each use logs a
DeprecationWarning traceback in a running server); this is the same few lines, kept here."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
