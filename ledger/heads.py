"""A head of a cooperative's event chain, kept outside the store (a closing's minutes, an
assembly's): `coopledger verify --head N:HASH` checks the store still leads to it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Head:
    """A head of a cooperative's event chain: the link of its event at `version`. Written N:HASH."""

    version: int
    link: str

    @classmethod
    def parse(cls, text: str) -> Head:
        """'N:HASH' (N the event count, HASH the 64 hex digits of its link). ValueError otherwise."""
        number, sep, value = text.strip().partition(":")
        value = value.lower()
        if (
            not sep
            or not number.isdigit()
            or int(number) < 1
            or len(value) != 64
            or any(c not in "0123456789abcdef" for c in value)
        ):
            raise ValueError(
                f"{text!r} is not a head: write N:HASH, N the number of events (1 or more) and HASH "
                "the 64 hexadecimal digits printed with it"
            )
        return cls(int(number), value)

    def __str__(self) -> str:
        return f"{self.version}:{self.link}"
