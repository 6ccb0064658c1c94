"""A router that turns a request away on its path prefix before trying its routes one by one.

FastAPI matches a request against every route of every included router in turn, each with its
own regular expression, and matches the winning router's routes twice (once to choose it, once to
handle). A command route came after the read routers and 82 command routes: about 0.1 ms of
matching per request, measured (tests/api/test_prefix_router.py checks the answers are the same).
A `PrefixRouter` first checks that the path starts with its prefix (`/v1/coops/{coop}/commands`);
a path elsewhere costs one regular expression, not one per route.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match, compile_path
from starlette.types import Scope


class PrefixRouter(APIRouter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert self.prefix, "a PrefixRouter needs a prefix"
        pattern = compile_path(self.prefix)[0].pattern
        assert pattern.endswith("$"), pattern
        # The prefix, then the end of the path or a slash: /commands matches, /commandsX does not.
        self._prefix = re.compile(pattern[:-1] + "(?:/|$)")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The path as the routes match it: without the root path the app is served under (a proxy's
        # prefix, uvicorn's --root-path, a Mount), which the server leaves in scope["path"].
        if scope["type"] in ("http", "websocket") and self._prefix.match(get_route_path(scope)) is None:
            return Match.NONE, {}
        return super().matches(scope)
