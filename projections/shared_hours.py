"""Read model of shared hours (issue 3). Being written."""

from __future__ import annotations

from projections.base import Projection


class SharedHoursProjection(Projection):
    name = "shared_hours"
    tables: tuple[str, ...] = ()
