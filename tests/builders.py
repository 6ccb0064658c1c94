"""Builders for the cooperatives the tests use, and small helpers to inspect a store.

The demo-like association has four colleges weighted 40/20/20/20 and a fee schedule by
headcount (1-9: 100 EUR, 10-49: 250.50 EUR, 50 and more: 1,500 EUR). The SCIC has three
unweighted colleges (each 100/3 %) and capital shares of 50 EUR.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative, coop_id
from domain.events import FinancialEvent
from domain.membership import AdmitMember
from ledger.service import CommandResult, Ledger

FOUNDED_ON = date(2020, 1, 1)

FEE_SMALL_CENTS = 100_00  # headcount 1-9
FEE_MEDIUM_CENTS = 250_50  # headcount 10-49
FEE_LARGE_CENTS = 1_500_00  # headcount 50+
SHARE_VALUE_CENTS = 50_00

_keys = itertools.count(1)


def new_key(prefix: str = "k") -> str:
    """A fresh idempotency key."""
    return f"{prefix}-{next(_keys)}"


def record_demo(ledger: Ledger, batch_commands: int = 500) -> list[CommandResult]:
    """The demo's books (ledger/demo.py) recorded through the batch path, every command accepted."""
    from ledger.commands import parse_command
    from ledger.demo import demo_commands

    parsed = [parse_command(c) for c in demo_commands()]
    results: list[CommandResult] = []
    for start in range(0, len(parsed), batch_commands):
        results += ledger.execute_batch([(c, k, a or "demo") for c, k, a in parsed[start : start + batch_commands]])
    assert all(r.accepted for r in results), [r.error for r in results if not r.accepted][:3]
    return results


def fee_schedule() -> list[FeeBracket]:
    return [FeeBracket(1, 9, Decimal("100")), FeeBracket(10, 49, Decimal("250.50")), FeeBracket(50, None, Decimal("1500.00"))]


def found_association(coop: str = "demo", founded_on: date = FOUNDED_ON) -> FoundCooperative:
    return FoundCooperative(
        coop=coop,
        name="Réseau démo",
        legal_form="association",
        founded_on=founded_on,
        colleges=[
            CollegeSpec("founders", "Membres fondateurs", "40"),
            CollegeSpec("users", "Usagers", "20"),
            CollegeSpec("partners", "Partenaires", "20"),
            CollegeSpec("staff", "Salariés", "20"),
        ],
        fee_schedule=fee_schedule(),
    )


def found_scic(coop: str = "scic", founded_on: date = FOUNDED_ON) -> FoundCooperative:
    return FoundCooperative(
        coop=coop,
        name="SCIC médiation numérique",
        legal_form="scic",
        founded_on=founded_on,
        colleges=[
            CollegeSpec("employees", "Salariés"),
            CollegeSpec("beneficiaries", "Bénéficiaires"),
            CollegeSpec("supporters", "Soutiens"),
        ],
        fee_schedule=fee_schedule(),
        siren="123456782",
        share_value=Decimal("50.00"),
    )


def admit(coop: str, member_id: str, college: str, day: date, *, headcount: int = 1) -> AdmitMember:
    kind = "person" if headcount == 1 else "organisation"
    return AdmitMember(coop, member_id, f"Member {member_id}", kind, college, day, headcount)


def ok(ledger: Ledger, command: Any, key: str | None = None) -> CommandResult:
    """Executes a command that must be accepted; fails with the domain error otherwise."""
    result = ledger.execute(command, key or new_key())
    assert result.accepted, f"{type(command).__name__} refused: {result.error and result.error.as_dict()}"
    return result


def stored_event_count(ledger: Ledger) -> int:
    """Rows in the event store (events and command receipts)."""
    table = ledger.app.recorder.events_table_name  # type: ignore[attr-defined]
    with ledger.db.read() as tx:
        return int(tx.execute(f"SELECT COUNT(*) FROM {table}")[0][0])  # noqa: S608


def stored_financial_events(ledger: Ledger, slug: str) -> list[FinancialEvent]:
    """The cooperative's financial events, read from the store (not from any cache)."""
    return [e for e in ledger.app.events.get(coop_id(slug)) if isinstance(e, FinancialEvent)]


def unbalanced_units(postings: list[list[Any]]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for _account, _party, unit, amount in postings:
        totals[unit] += amount
    return {unit: total for unit, total in totals.items() if total != 0}


def projection_tables(runner: Any) -> list[str]:
    """Every table the runner's projections own, plus their positions."""
    tables = [t for projection in runner.projections for t in projection.tables]
    assert len(tables) == len(set(tables)), f"two projections claim the same table: {tables}"
    return [*tables, "projection_positions"]


def dump_projections(runner: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, sorted (row order is not part of the contract)."""
    with runner.db.read() as tx:
        return {
            table: sorted(tx.execute(f"SELECT * FROM {table}"), key=repr)  # noqa: S608
            for table in projection_tables(runner)
        }


def rich_history(ledger: Ledger, after_each: Any = None) -> list[CommandResult]:
    """A history touching every projected fact, in two cooperatives, with back-dated entries,
    partial payments, reversals of payments, calls and shares, transfers, resignation, exclusion."""
    from domain.corrections import ReverseEntry
    from domain.fees import CallFee, PayFee
    from domain.membership import ExcludeMember, RedeemShares, ResignMember, SubscribeShares, TransferMember

    d = date
    commands: list[Any] = [
        found_association("demo"),
        admit("demo", "alice", "founders", d(2020, 2, 1)),
        admit("demo", "org-b", "partners", d(2020, 2, 1), headcount=12),
        admit("demo", "carol", "users", d(2020, 2, 10)),
        CallFee("demo", "alice", 2020, d(2020, 2, 1)),  # 1
        CallFee("demo", "org-b", 2020, d(2020, 2, 1)),  # 2
        CallFee("demo", "carol", 2020, d(2020, 2, 10)),  # 3
        PayFee("demo", "alice", 2020, Decimal("40"), d(2020, 3, 1)),  # 4
        PayFee("demo", "org-b", 2020, Decimal("250.50"), d(2020, 4, 15)),  # 5
        PayFee("demo", "alice", 2020, Decimal("60"), d(2020, 2, 20)),  # 6: back-dated
        ReverseEntry("demo", 5, "cheque bounced", d(2020, 5, 1)),  # 7
        ReverseEntry("demo", 3, "called twice by mistake", d(2020, 5, 2)),  # 8
        TransferMember("demo", "carol", "staff", d(2020, 6, 1)),
        ResignMember("demo", "carol", d(2020, 9, 30)),
        ExcludeMember("demo", "org-b", d(2020, 10, 1), "unpaid fee"),
        CallFee("demo", "alice", 2021, d(2020, 12, 1)),  # 9: one year ahead
        found_scic("scic"),
        admit("scic", "emma", "employees", d(2020, 3, 1)),
        admit("scic", "fred", "beneficiaries", d(2020, 3, 1)),
        SubscribeShares("scic", "emma", 4, d(2020, 3, 1)),  # 1
        SubscribeShares("scic", "fred", 2, d(2020, 3, 5)),  # 2
        RedeemShares("scic", "emma", 1, d(2020, 6, 1)),  # 3
        ReverseEntry("scic", 3, "redemption refused", d(2020, 6, 2)),  # 4
        CallFee("scic", "fred", 2020, d(2020, 3, 5)),  # 5
        PayFee("scic", "fred", 2020, Decimal("100"), d(2020, 3, 6)),  # 6
    ]
    results = []
    for command in commands:
        results.append(ok(ledger, command))
        if after_each is not None:
            after_each(results[-1])
    return results


class Books:
    """A cooperative in memory, founded 2020-01-01, driven through the deciders of every family
    (no store): for domain tests that check rules and entries without a database."""

    def __init__(self, legal_form: str = "association", slug: str = "c") -> None:
        from domain.cooperative import found_cooperative
        from domain.events import Meta

        self.slug = slug
        self.meta = Meta(actor="test", idempotency_key="k")
        self.coop = found_cooperative(None, found_scic(slug) if legal_form == "scic" else found_association(slug), self.meta)
        self.coop.collect_events()
        self.entries: list[FinancialEvent] = []  # by journal number - 1

    def do(self, command: Any) -> list[Any]:
        from domain.corrections import ReverseEntry, reverse_entry
        from ledger.handlers import HANDLERS

        if isinstance(command, ReverseEntry):
            reverse_entry(self.coop, command, self.meta, self.entries[command.entry_number - 1])
        else:
            HANDLERS[type(command)](self.coop, command, self.meta)
        events = list(self.coop.collect_events())
        self.entries.extend(e for e in events if isinstance(e, FinancialEvent))
        return events

    def refused(self, command: Any) -> Any:
        """Runs a command that must be refused; checks it changed nothing, not even the aggregate's
        version or journal; returns the DomainError."""
        import pytest

        from domain.errors import DomainError

        version, numbered = self.coop.version, self.coop.journal.last_number
        with pytest.raises(DomainError) as exc:
            self.do(command)
        assert not self.coop.pending_events and (self.coop.version, self.coop.journal.last_number) == (version, numbered)
        return exc.value

    def member_college(self) -> str:
        return "employees" if self.coop.legal_form.value == "scic" else "users"
