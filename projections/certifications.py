"""Read model of certifications (issue 3). Being written."""

from __future__ import annotations

from projections.base import Projection


class CertificationsProjection(Projection):
    name = "certifications"
    tables: tuple[str, ...] = ()
