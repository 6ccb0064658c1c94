"""A family of activities declares itself once, here; every registry of the program is derived.

A family is a set of commands and the events they record (fees, sensors, donations...). Its module
ends with `FAMILY = register(Family(...))`, which says in one place what the rest of the program
needs to know:

- `commands`: for each command, its decider and the roles that may send it (domain/roles.py);
- `events`: for each event (by its stable name, as stored: "coopledger:<Name>"), its kind in the
  change feed and the feed group that may follow it, and, for an event that carries a journal
  entry, the FEC journal it is filed in. Names, not classes: a family's carried events live in its
  carry module, which imports the family module, so the family module cannot import them;
- `carriers` and `carry_order`: how its open items are carried into a federation ("module:function",
  for the same reason), and when.
- `state`: what the family keeps on the Cooperative aggregate (a factory; the attribute is named
  after the family, `coop.<name>`);
- `managed`: accounts (by their role in the chart) that its commands keep per party: a manual entry
  may not touch them, and a federation must carry their balances exactly (domain/federation_carry.py);
- `rules`: for a family outside the package, the rules its deciders refuse with that the rule
  catalogue (domain/rule_catalogue.py, where shipped families' rules are) does not hold, each with
  its meaning: they join the published rules (`rules()`, the OpenAPI document's ProblemRule).

`register` checks the declaration against the rules below and against the families already
registered; what is missing or clashes fails there, naming the family. The ledger (command
handlers), the projections runner's event decoding, the API's roles, the change feed's kinds and
the FEC's journals all read these registries, so a family is never half known.

Shipped families register when their module is imported; every reader of the registry first
imports every module of the domain package once (`families()`), so none is ever left out. A
family outside the package (the example family of the tests) registers when it is imported.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from domain.events import EVENT_CLASSES, FinancialEvent, Meta
from domain.roles import ROLES
from domain.rule_catalogue import RULES, is_rule_name

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

# Who may follow a fact of the change feed (projections/feed.py FEED_ACCESS): "entries" carry a
# journal entry; "restricted" is for admins and auditors only.
FEED_GROUPS = ("cooperative", "entries", "membership", "governance", "activities", "restricted")
# The FEC's journals an event's entry may be filed in: calls and invoices (VT), the bank (BQ),
# everything else (OD). The opening journal (AN) is the export's own, never an event's.
ENTRY_JOURNALS = ("VT", "BQ", "OD")
# A reversal is filed with the entry it cancels, whatever that entry's journal.
JOURNAL_OF_REVERSED = "reversed"

Decider = Callable[["Cooperative", Any, Meta], Any]


class FamilyDeclarationError(AssertionError):
    """A family's declaration is incomplete or clashes with another family's."""


@dataclass(frozen=True)
class Handler:
    """How a command is decided, and who may send it. `decide` is None for the few commands the
    ledger decides itself, because they need more than one cooperative (domain/cooperative.py
    FoundCooperative: none exists yet; corrections, federation)."""

    decide: Decider | None
    roles: frozenset[str]


@dataclass(frozen=True)
class Fact:
    """What an event becomes in the change feed (`kind`, stable: "<thing>.<past tense>") and who
    may follow it (`group`); `journal`: the FEC journal of its entry, for financial events only."""

    kind: str
    group: str
    journal: str | None = None


@dataclass(frozen=True)
class Family:
    name: str
    commands: Mapping[type, Handler]
    events: Mapping[str, Fact]  # event name -> fact
    state: Callable[[], Any] | None = None
    managed: Mapping[str, tuple[type, ...]] = field(default_factory=dict)  # account role -> commands keeping it
    carriers: tuple[str, ...] = ()  # "module:function", each a Carrier (domain/federation_carry.py)
    # When a federation runs this family's carriers: lower first. Ties run in family-name order.
    carry_order: int = 100
    rules: Mapping[str, str] = field(default_factory=dict)  # rule -> meaning, rules not in the catalogue

    def problems(self) -> list[str]:
        """What is wrong with the declaration on its own; clashes with other families are `register`'s.
        Events and carriers are looked up by name, so every module of the family must be imported."""
        found: list[str] = []
        if not self.name.isidentifier() or self.name != self.name.lower():
            found.append(f"name {self.name!r} must be a lower-case identifier (it names coop.<name>)")
        for command, handler in self.commands.items():
            if not (isinstance(command, type) and is_dataclass(command)):
                found.append(f"command {command!r} is not a dataclass")
            elif "coop" not in {f.name for f in fields(command)}:
                found.append(f"command {command.__name__} has no `coop` field")
            if not handler.roles or not handler.roles <= set(ROLES):
                found.append(
                    f"command {getattr(command, '__name__', command)}: roles {sorted(handler.roles)} must be some of {ROLES}"
                )
        for name, fact in self.events.items():
            event = EVENT_CLASSES.get(name)
            found.extend(
                [f"event {name} is not defined (no CoopEvent has that name)"] if event is None else _fact_problems(event, fact)
            )
        for role, commands_ in self.managed.items():
            strangers = [c.__name__ for c in commands_ if c not in self.commands]
            if not commands_ or strangers:
                found.append(f"managed account role {role!r}: name commands of this family (not {strangers})")
        if self.carriers and not any(fact.kind.endswith(".carried") for fact in self.events.values()):
            found.append("carriers but no '<thing>.carried' event to record what they carry")
        for path in self.carriers:
            module, _, function = path.partition(":")
            if not callable(getattr(importlib.import_module(module), function, None)):
                found.append(f"carrier {path!r} is not a function")
        for rule, meaning in self.rules.items():
            if rule in RULES or not is_rule_name(rule) or not meaning.strip():
                found.append(f"rule {rule!r}: a snake_case name the catalogue does not hold, with its meaning")
        return found


def _fact_problems(event: type, fact: Fact) -> list[str]:
    name = event.__name__
    found = []
    thing, _, verb = fact.kind.partition(".")
    if not (thing and verb and fact.kind == fact.kind.lower()):
        found.append(f"event {name}: feed kind {fact.kind!r} must read '<thing>.<past tense>'")
    if fact.group not in FEED_GROUPS:
        found.append(f"event {name}: feed group {fact.group!r} is not one of {FEED_GROUPS}")
    if issubclass(event, FinancialEvent):
        if fact.journal not in (*ENTRY_JOURNALS, JOURNAL_OF_REVERSED):
            found.append(f"event {name} carries an entry: give its FEC journal, one of {ENTRY_JOURNALS}")
        if fact.group != "entries":
            found.append(f"event {name} carries an entry: its feed group is 'entries'")
    elif fact.journal is not None:
        found.append(f"event {name} carries no entry: it has no FEC journal")
    return found


# ---------------------------------------------------------------- the registries

_FAMILIES: dict[str, Family] = {}
_HANDLERS: dict[type, Handler] = {}
_COMMANDS: dict[str, type] = {}
_FACTS: dict[str, Fact] = {}  # event name -> fact
_FAMILY_OF_EVENT: dict[str, str] = {}  # event name -> family name
_KINDS: dict[str, str] = {}  # fact kind -> event name, to refuse two events with one kind
_cache: dict[str, Any] = {}
_loaded = False


def register(family: Family) -> Family:
    """Adds a family to every registry, or raises FamilyDeclarationError naming it and what is
    wrong. A shipped family is checked whole once every domain module is imported (its carried
    events live in a module that imports it); a family registered later is checked at once."""
    if _FAMILIES.get(family.name) is family:
        return family
    problems = family.problems() if _loaded else []
    if family.name in _FAMILIES:
        problems.append("another family has this name")
    problems += [
        f"command {c.__name__} is also declared by family {_family_of_command(c)!r}"
        for c in family.commands
        if c.__name__ in _COMMANDS
    ]
    problems += [f"event {e} is also declared by family {_FAMILY_OF_EVENT[e]!r}" for e in family.events if e in _FAMILY_OF_EVENT]
    problems += [f"feed kind {f.kind!r} is also the kind of {_KINDS[f.kind]}" for f in family.events.values() if f.kind in _KINDS]
    problems += [
        f"rule {r!r} is also declared by family {f.name!r}" for f in _FAMILIES.values() for r in family.rules if r in f.rules
    ]
    if problems:
        raise FamilyDeclarationError(f"family {family.name!r}: " + "; ".join(problems))
    _FAMILIES[family.name] = family
    for command, handler in family.commands.items():
        _HANDLERS[command] = handler
        _COMMANDS[command.__name__] = command
    for name, fact in family.events.items():
        _FACTS[name] = fact
        _FAMILY_OF_EVENT[name] = family.name
        _KINDS[fact.kind] = name
    _cache.clear()
    return family


def _family_of_command(command: type) -> str:
    return next(f.name for f in _FAMILIES.values() if any(c.__name__ == command.__name__ for c in f.commands))


def _load_shipped() -> None:
    """Imports every module of the domain package once, so that every shipped family registers,
    then checks every declaration whole."""
    global _loaded
    if _loaded:
        return
    import domain

    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{module.name}")
    _loaded = True
    for family in _FAMILIES.values():
        problems = family.problems()
        if problems:
            raise FamilyDeclarationError(f"family {family.name!r}: " + "; ".join(problems))


def families() -> tuple[Family, ...]:
    """Every registered family, by name."""
    _load_shipped()
    if "families" not in _cache:
        _cache["families"] = tuple(sorted(_FAMILIES.values(), key=lambda f: f.name))
    return _cache["families"]


def handler_of(command: type) -> Handler | None:
    _load_shipped()
    return _HANDLERS.get(command)


def commands() -> Mapping[str, type]:
    """Command name -> command class, every family's."""
    _load_shipped()
    return _COMMANDS


def command_roles() -> Mapping[str, frozenset[str]]:
    """Command name -> the roles that may send it."""
    if "roles" not in _cache:
        _load_shipped()
        _cache["roles"] = {name: _HANDLERS[cls].roles for name, cls in _COMMANDS.items()}
    return _cache["roles"]


def fact_of(event_name: str) -> Fact | None:
    _load_shipped()
    return _FACTS.get(event_name)


def facts() -> Mapping[str, Fact]:
    """Event name -> fact, every family's: families by name, each in its declaration's order."""
    if "facts" not in _cache:
        _cache["facts"] = {name: fact for family in families() for name, fact in family.events.items()}
    return _cache["facts"]


def kind_groups() -> Mapping[str, str]:
    """Fact kind -> feed group, every declared event's, in the order of `facts`."""
    if "kinds" not in _cache:
        _cache["kinds"] = {fact.kind: fact.group for fact in facts().values()}
    return _cache["kinds"]


def managed_roles() -> dict[str, str]:
    """Account role -> the commands that keep it, as a sentence part ("CallFee / PayFee")."""
    if "managed" not in _cache:
        names: dict[str, list[str]] = {}
        for family in families():
            for role, commands_ in family.managed.items():
                names.setdefault(role, []).extend(c.__name__ for c in commands_)
        _cache["managed"] = {role: " / ".join(found) for role, found in names.items()}
    return _cache["managed"]


def carriers() -> list[Callable[..., Any]]:
    """Every family's carriers, in the order a federation runs them."""
    if "carriers" not in _cache:
        ordered = sorted(families(), key=lambda f: (f.carry_order, f.name))
        paths = [path.partition(":") for family in ordered for path in family.carriers]
        _cache["carriers"] = [getattr(importlib.import_module(module), function) for module, _, function in paths]
    return _cache["carriers"]


def rules() -> Mapping[str, str]:
    """Rule -> meaning, sorted: the catalogue's and those families outside the package declare."""
    if "rules" not in _cache:
        _cache["rules"] = dict(sorted({**RULES, **{r: m for f in families() for r, m in f.rules.items()}}.items()))
    return _cache["rules"]


def new_states() -> dict[str, Any]:
    """A fresh state per family that keeps one, by attribute name (the family's name)."""
    return {family.name: family.state() for family in families() if family.state is not None}
