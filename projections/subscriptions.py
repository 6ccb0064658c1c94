"""Read model of subscriptions (issue 3). Being written."""

from __future__ import annotations

from projections.base import Projection


class SubscriptionsProjection(Projection):
    name = "subscriptions"
    tables: tuple[str, ...] = ()
