"""Read model of subsidies (issue 3). Being written."""

from __future__ import annotations

from projections.base import Projection


class SubsidiesProjection(Projection):
    name = "subsidies"
    tables: tuple[str, ...] = ()
