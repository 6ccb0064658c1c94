"""The observatory's one setting: whether a cooperative shows its indicators to the public.

A cooperative decides, by a dated setting, whether anyone may watch its observatory (its
indicators page and their JSON) without an API key. Private is the default: nothing about a
cooperative is public until an admin says so. The setting is a fact like any other, so who made
the observatory public, and from when, stays in the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from domain.errors import InvalidCommand
from domain.events import CoopEvent, Meta
from domain.family import Fact, Family, Handler, register
from domain.roles import STATUTES

if TYPE_CHECKING:
    from domain.cooperative import Cooperative


@dataclass(frozen=True)
class SetObservatoryVisibility:
    """Make the observatory public (readable without a key) or private, from `effective_date`."""

    coop: str
    public: bool
    effective_date: date


class ObservatoryVisibilitySet(CoopEvent):
    public: bool

    def apply(self, coop: Cooperative) -> None:
        # An attribute of its own on the aggregate (read with getattr(coop, "observatory_public", False)):
        # the aggregate's module does not need to know about the observatory.
        coop.observatory_public = self.public  # type: ignore[attr-defined]


def set_observatory_visibility(coop: Cooperative, cmd: SetObservatoryVisibility, meta: Meta) -> None:
    if not isinstance(cmd.public, bool):
        raise InvalidCommand("public", "boolean", "must be true (anyone may watch) or false (API keys only)")
    day = coop.check_effective_date(cmd.effective_date)
    coop.record(ObservatoryVisibilitySet, effective_date=day, meta=meta, public=cmd.public)


FAMILY = register(
    Family(
        name="observatory",
        commands={SetObservatoryVisibility: Handler(set_observatory_visibility, STATUTES)},
        events={"ObservatoryVisibilitySet": Fact("observatory_visibility.set", "cooperative")},
    )
)
