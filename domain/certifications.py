"""certifications (issue 3): commands, events, rules and posting rules. Being written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CertificationsState:
    """What the rules of this family need to remember, kept on the Cooperative aggregate."""


HANDLERS: dict[type, object] = {}
