"""Domain errors. Each names the field at fault and the rule it broke.

The HTTP layer maps the three kinds to status codes in one place; the command line prints them.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused. Nothing was written."""

    kind = "invalid"

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "field": self.field, "rule": self.rule, "message": self.message}


class InvalidCommand(DomainError):
    """The command breaks a rule (bad amount, wrong date, overpayment...)."""

    kind = "invalid"


class NotFound(DomainError):
    """The command names something that does not exist (cooperative, member, account, entry)."""

    kind = "not_found"


class Conflict(DomainError):
    """The command conflicts with what is already recorded (duplicate, idempotency key reuse)."""

    kind = "conflict"


class IntegrityViolation(AssertionError):
    """A stored or projected fact breaks an invariant (unbalanced entry, broken numbering).

    Never caught to hide: it means the books are not what the code believes.
    """
