"""Open items carried by a federation: the state behind a founder's managed balances.

A founder's balances open the federation's books (domain/federation.py), but some accounts are
*managed*: their balance per party is the sum of items a family of commands tracks (fee calls on
411, capital shares on 1013, earmarked gifts on 196/4877, sensor credits owed...; the list is
the `managed` accounts of the families' declarations, which a manual entry may not touch). Carrying the balance
without the items would strand the money: no command could collect the fee, redeem the share or
spend the gift for its purpose.

So each family that can carry its open items into the federation has a *carrier*
(`CARRIERS`, below). A carrier reads the founder's state on the federation date, records in the
new cooperative the events that rebuild the open items there (non-financial: the money arrives
with the opening entry), and returns what it carried per (account, founder-side party, unit).

`carry_open_items` then checks the whole: on every managed account of the founder, what the
carriers carried equals the founder's balance, party by party. A balance no carrier accounts
for is refused (rule `open_items_not_carried`, naming the account, the party, the amount and the
commands that settle it), so a federation never strands money on a managed account; a carrier
that carries more or less than the books hold is refused the same way (and is a bug).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.errors import Conflict, InvalidCommand
from domain.events import CoopEvent, Meta
from domain.family import carriers, managed_roles
from domain.money import Unit, format_minor

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

Key = tuple[str, "str | None", str]  # (account, founder-side party, unit)
Carried = dict[Key, int]  # minor units, debit positive, as the books


@dataclass(frozen=True)
class CarryContext:
    """What a carrier gets: one founder, the new cooperative being built, the date, the renaming."""

    founder_slug: str
    founder: Cooperative
    new: Cooperative
    day: date  # the federation date: items open at the end of day - 1 are carried
    party_map: dict[str, str]  # founder member id -> federation member id (identity under "keep")
    meta: Meta
    field: str  # "founders[i]", for refusals

    def party(self, founder_party: str) -> str:
        """The party's name in the federation (members are renamed under "prefix")."""
        return self.party_map.get(founder_party, founder_party)


Carrier = Callable[[CarryContext], Carried]


def _carried_from(new: Cooperative, kind: type[CoopEvent], attribute: str, value: str) -> str:
    """Which founder already carried an item of this id into the new cooperative."""
    for event in new.pending_events:
        if isinstance(event, kind) and getattr(event, attribute) == value:
            return str(event.founder)
    return new.slug


def check_unique(ctx: CarryContext, taken: Any, kind: type[CoopEvent], attribute: str, value: str, what: str, rule: str) -> None:
    """A carrier keeps ids: an id already in `taken` (carried from another founder, as a `kind`
    event) is a Conflict naming the founder."""
    if value in taken:
        raise Conflict(
            ctx.field,
            rule,
            f"{what} {value!r} of {ctx.founder_slug} is already carried from "
            f"{_carried_from(ctx.new, kind, attribute, value)}: ids are kept, so settle it in one of them before federating",
        )


def managed_accounts(founder: Cooperative) -> dict[str, str]:
    """Account number -> the commands that manage it, in the founder's chart."""
    managed: dict[str, list[str]] = defaultdict(list)
    for role, commands in managed_roles().items():
        number = founder.chart.roles.get(role)
        if number is not None and commands not in managed[number]:
            managed[number].append(commands)
    return {number: "; ".join(commands) for number, commands in managed.items()}


def carry_open_items(ctx: CarryContext, balances: dict[Key, int]) -> Carried:
    """Runs every carrier for one founder, then checks that the managed balances are carried
    exactly. Raises InvalidCommand on the first balance that is not; returns what was carried."""
    carried: Carried = defaultdict(int)
    for carrier in carriers():  # each family's, in their carry_order (domain/family.py)
        for key, amount in carrier(ctx).items():
            carried[key] += amount
    managed = managed_accounts(ctx.founder)
    expected = {key: amount for key, amount in balances.items() if key[0] in managed and amount}
    got = {key: amount for key, amount in carried.items() if amount}
    for key in sorted(set(expected) | set(got), key=lambda k: (k[0], k[1] or "", k[2])):
        if expected.get(key, 0) != got.get(key, 0):
            account, party, unit = key
            raise InvalidCommand(
                ctx.field,
                "open_items_not_carried",
                _message(ctx, key, expected.get(key, 0), got.get(key, 0), managed.get(account, "")),
            )
    return dict(got)


def _message(ctx: CarryContext, key: Key, balance: int, carried: int, commands: str) -> str:
    account, party, unit = key
    whose = f" for {party}" if party else ""
    label = ctx.founder.chart.accounts[account].label_en if account in ctx.founder.chart.accounts else account
    if carried == 0:
        return (
            f"{ctx.founder_slug} holds {format_minor(balance, Unit(unit))} {unit} on {account} ({label}){whose} on {ctx.day}: "
            f"an open item the federation cannot carry yet; settle it first ({commands})"
        )
    return (
        f"{ctx.founder_slug}'s open items on {account} ({label}){whose} add up to {format_minor(carried, Unit(unit))} {unit}, "
        f"but the books hold {format_minor(balance, Unit(unit))} {unit}: settle them first ({commands})"
    )
