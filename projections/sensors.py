"""Read model of sensors (issue 3). Being written."""

from __future__ import annotations

from projections.base import Projection


class SensorsProjection(Projection):
    name = "sensors"
    tables: tuple[str, ...] = ()
