"""Read model of grants (issue 3). Being written."""

from __future__ import annotations

from projections.base import Projection


class GrantsProjection(Projection):
    name = "grants"
    tables: tuple[str, ...] = ()
