"""Command bodies read with exact numbers: a JSON number with a fraction is a Decimal of its digits.

Starlette reads a JSON body with the standard parser, which turns 0.1 into the binary float nearest
to it. A ledger takes amounts as they were written: the command routes use `ExactJsonRoute`, whose
requests parse numbers with a fraction or an exponent as `decimal.Decimal`. Whole numbers stay ints.
A number field (api/schemas.py) then takes the Decimal as exact; a text field refuses it as not text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class ExactJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=Decimal)
        return self._json


class ExactJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(ExactJsonRequest(request.scope, request.receive))

        return exact
