"""Read model of contributions (issue 3). Being written."""

from __future__ import annotations

from projections.base import Projection


class ContributionsProjection(Projection):
    name = "contributions"
    tables: tuple[str, ...] = ()
