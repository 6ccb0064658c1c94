"""Read model of levy (issue 3). Being written."""

from __future__ import annotations

from projections.base import Projection


class LevyProjection(Projection):
    name = "levy"
    tables: tuple[str, ...] = ()
