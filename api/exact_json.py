"""Command bodies read with exact numbers: a JSON number with a fraction is a Decimal of its digits.

Starlette reads a JSON body with the standard parser, which turns 0.1 into the binary float nearest
to it. A ledger takes amounts as they were written: the command routes use `ExactJsonRoute`, whose
requests parse numbers with a fraction or an exponent as `decimal.Decimal`. Whole numbers stay ints.
A number field (api/schemas.py) then takes the Decimal as exact; a text field refuses it as not text.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from ledger.commands import loads


class ExactJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            # orjson first, the standard parser again where it met a fraction (ledger/commands.py
            # `loads`): the same values and errors, a batch of 1,000 commands read several times faster.
            self._json = loads(await self.body())
        return self._json


class ExactJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(ExactJsonRequest(request.scope, request.receive))

        return exact
