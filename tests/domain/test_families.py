"""Every family declares itself whole (domain/family.py), and an incomplete declaration fails,
naming the family and what it misses, before anything is registered."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from dataclasses import dataclass
from datetime import date

import pytest

from domain import family as registry
from domain.cooperative import found_cooperative
from domain.events import EVENT_CLASSES, CoopEvent, FinancialEvent, Meta
from domain.family import Fact, Family, FamilyDeclarationError, Handler, families, register
from domain.roles import FINANCIAL
from tests.builders import found_association


def test_every_shipped_event_is_declared_by_exactly_one_family():
    declared: dict[str, list[str]] = {}
    for fam in families():
        for name in fam.events:
            declared.setdefault(name, []).append(fam.name)
    shipped = {name: cls for name, cls in EVENT_CLASSES.items() if cls.__module__.startswith("domain.")}
    undeclared = {name: cls.__module__ for name, cls in shipped.items() if name not in declared}
    assert not undeclared, f"declare these events in their family's `events` (module: event): {undeclared}"
    assert {name: owners for name, owners in declared.items() if len(owners) > 1} == {}


def test_every_command_of_the_domain_is_declared_by_the_family_of_its_module():
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("domain.") or module is None:
            continue
        commands = [
            cls
            for cls in vars(module).values()
            if inspect.isclass(cls)
            and cls.__module__ == module_name
            and not issubclass(cls, CoopEvent)
            and dataclasses.is_dataclass(cls)
            and "coop" in {f.name for f in dataclasses.fields(cls)}
        ]
        for cls in commands:
            handler = registry.handler_of(cls)
            assert handler is not None, f"{module_name}.{cls.__name__} has a `coop` field but no family declares it"
            owner = next(f for f in families() if cls in f.commands)
            assert cls.__module__.removeprefix("domain.").startswith(owner.name) or owner.name in ("cooperative", "federation"), (
                f"{cls.__name__} is declared by family {owner.name!r}, far from its module {module_name}"
            )


def test_a_new_cooperative_holds_every_declared_state_under_the_family_name():
    coop = found_cooperative(None, found_association("states"), Meta(actor="test", idempotency_key="k"))
    for fam in families():
        if fam.state is not None:
            assert isinstance(getattr(coop, fam.name), type(fam.state())), fam.name


def test_carriers_run_in_their_declared_order_and_funds_come_before_gifts():
    names = [c.__name__ for c in registry.carriers()]
    # A gift earmarked for a call checks that the call was carried (domain/donations_carry.py).
    assert names.index("carry_funds") < names.index("carry_earmarked_gifts")
    orders = [f.carry_order for f in sorted(families(), key=lambda f: (f.carry_order, f.name)) if f.carriers]
    assert orders == sorted(orders) and len(names) == sum(len(f.carriers) for f in families())


def test_managed_accounts_name_the_commands_that_keep_them():
    managed = registry.managed_roles()
    assert managed["capital"] == "SubscribeShares / RedeemShares"
    assert set(managed["members_receivable"].split(" / ")) == {
        "CallFee",
        "PayFee",
        "PayCertificationFee",
        "PaySubscription",
        "RecordDirectDebitCollection",
        "RecordDirectDebitReturn",
    }


# ---------------------------------------------------------------- incomplete declarations


@dataclass(frozen=True)
class LendBook:
    coop: str
    book_id: str
    effective_date: date


@pytest.fixture(scope="module")
def book_events():
    """Two events of a family that never registers, known only while the test runs (every other
    test sees exactly the shipped events)."""

    class BookLent(FinancialEvent):
        book_id: str

    class BookListed(CoopEvent):
        book_id: str

    yield
    for cls in (BookLent, BookListed):
        del EVENT_CLASSES[cls.__name__]


def _lend(coop, cmd, meta) -> None:
    raise AssertionError("never decided: the family is never registered")


@pytest.mark.parametrize(
    ("declaration", "says"),
    [
        (dict(events={"BookLent": Fact("book.lent", "entries")}), "carries an entry: give its FEC journal"),
        (dict(events={"BookListed": Fact("book.listed", "activities", journal="BQ")}), "carries no entry: it has no FEC journal"),
        (dict(events={"BookLent": Fact("book.lent", "activities", journal="BQ")}), "its feed group is 'entries'"),
        (dict(events={"BookListed": Fact("Book Listed", "activities")}), "must read '<thing>.<past tense>'"),
        (dict(events={"BookListed": Fact("book.listed", "everyone")}), "is not one of"),
        (dict(events={"BookBurnt": Fact("book.burnt", "activities")}), "event BookBurnt is not defined"),
        (dict(events={"FeePaid": Fact("fee.paid_again", "entries", journal="BQ")}), "also declared by family 'fees'"),
        (dict(events={"BookListed": Fact("fee.paid", "activities")}), "is also the kind of FeePaid"),
        (dict(commands={LendBook: Handler(_lend, frozenset())}), "roles [] must be some of"),
        (dict(commands={LendBook: Handler(_lend, frozenset({"librarian"}))}), "roles ['librarian']"),
        (dict(managed={"members_receivable": (LendBook,)}), "name commands of this family"),
        (dict(carriers=("tests.domain.test_families:_lend",)), "no '<thing>.carried' event"),
        (dict(name="fees"), "another family has this name"),
        (dict(name="Books"), "must be a lower-case identifier"),
        (dict(rules={"known_member": "the member exists"}), "rule 'known_member': a snake_case name the catalogue does not"),
        (dict(rules={"Book-Lent": "the book is lent"}), "rule 'Book-Lent'"),
        (dict(rules={"book_lent": " "}), "with its meaning"),
    ],
)
def test_an_incomplete_declaration_fails_naming_the_family_and_registers_nothing(declaration, says, book_events):
    before = (families(), dict(registry.facts()), dict(registry.commands()))
    fields = {"name": "books", "commands": {}, "events": {}, **declaration}
    with pytest.raises(FamilyDeclarationError) as refused:
        register(Family(**fields))
    assert f"family {fields['name']!r}" in str(refused.value) and says in str(refused.value), str(refused.value)
    assert (families(), dict(registry.facts()), dict(registry.commands())) == before
    assert registry.handler_of(LendBook) is None


def test_a_command_declared_twice_is_refused():
    from domain.fees import CallFee, call_fee

    with pytest.raises(FamilyDeclarationError, match="command CallFee is also declared by family 'fees'"):
        register(Family(name="books", commands={CallFee: Handler(call_fee, FINANCIAL)}, events={}))
