"""Bank statements: the cooperative's bank accounts, the lines their statements brought, and which
of those lines paid what (domain/bank.py decides; docs/rules.md "Bank statements and reconciliation").

A bank line is known once, by its `line_id` (domain/bank.py `line_id_of`): importing a statement
again, or one that overlaps another, adds only the lines not seen before. A line's counterparty
(name, IBAN) and its label are personal data: they are sealed under the line's own pseudonym
(`counterparty_id`, "line-<line_id>"), which names no one until the line is matched to a person;
the match links the two (IdentitiesState.link), so forgetting the person forgets the line's
identity too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from domain.errors import NotFound
from domain.events import CoopEvent
from domain.personal import Personal, erased_value
from domain.rules import identifier

if TYPE_CHECKING:
    from domain.cooperative import Cooperative
    from domain.journal import Journal

# The fields of a line sealed under its counterparty's pseudonym.
LINE_IDENTITY = ("counterparty_name", "counterparty_iban", "label")


@dataclass
class Statement:
    statement_id: str
    source: str  # "camt053", "ofx", "csv" or "manual"
    first_day: date  # the first line's booking date (the closing date when it has none)
    closing_date: date
    opening_cents: int
    closing_cents: int


@dataclass
class BankAccount:
    bank_account_id: str
    iban: str
    bic: str | None
    ledger_account: str
    label: str
    opened_on: date
    csv_mapping: dict[str, Any] | None = None
    statements: dict[str, Statement] = field(default_factory=dict)  # by statement id, as imported


@dataclass
class BankLine:
    line_id: str
    bank_account_id: str
    statement_id: str
    booked_on: date
    value_date: date | None
    amount_cents: int  # signed: a credit (money in) is positive
    label: str
    counterparty_id: str  # the line's own pseudonym, "line-<line_id>"
    counterparty_name: str | None
    counterparty_iban: str | None
    reference: str | None  # the structured creditor reference (e.g. RF18...), compacted
    end_to_end_id: str | None
    return_reason: str | None  # an R-transaction's reason code (CAMT RtrInf/Rsn/Cd)
    # Each confirmation: {"person_id", "allocations": [{"item", "amount_cents", "entry_number"}]}
    matches: list[dict[str, Any]] = field(default_factory=list)

    def allocations(self, journal: Journal) -> list[dict[str, Any]]:
        """The allocations whose payment entry stands (not reversed): a reversed payment frees its part."""
        return [a for m in self.matches for a in m["allocations"] if a["entry_number"] not in journal.reversed_by]

    def allocated_cents(self, journal: Journal) -> int:
        """What standing allocations cover of the line, in cents of its size (a debit's too)."""
        return sum(a["amount_cents"] for a in self.allocations(journal))

    def open_cents(self, journal: Journal) -> int:
        """What no standing allocation covers yet, in cents of the line's size."""
        return abs(self.amount_cents) - self.allocated_cents(journal)

    def entry_numbers(self) -> list[int]:
        """Every payment entry a confirmation of this line recorded (reversed ones too)."""
        return [a["entry_number"] for m in self.matches for a in m["allocations"]]


@dataclass
class BankState:
    accounts: dict[str, BankAccount] = field(default_factory=dict)
    lines: dict[str, BankLine] = field(default_factory=dict)  # by line id, in the order imported

    def account(self, bank_account_id: Any, name: str = "bank_account_id") -> BankAccount:
        bank_account_id = identifier(bank_account_id, name)
        try:
            return self.accounts[bank_account_id]
        except KeyError:
            known = ", ".join(sorted(self.accounts)) or "none yet"
            raise NotFound(name, "known_bank_account", f"no bank account {bank_account_id!r} (known: {known})") from None

    def line(self, line_id: Any) -> BankLine:
        try:
            return self.lines[line_id]
        except (KeyError, TypeError):
            raise NotFound("line_id", "known_bank_line", f"no bank line {line_id!r}") from None

    def forget(self, person_id: str) -> None:
        """A forgotten counterparty's identity reads as erased (Cooperative.forget): the line's
        pseudonym is forgotten itself, or with the person it was linked to (PersonForgotten.linked)."""
        for line in self.lines.values():  # bounded by the lines imported
            if line.counterparty_id == person_id:
                for name in LINE_IDENTITY:
                    value = erased_value(name, person_id)
                    setattr(line, name, value if name != "label" else value or "")


def bank_state(coop: Cooperative) -> BankState:
    state: BankState = coop.bank  # type: ignore[attr-defined]
    return state


# ---------------------------------------------------------------- events


class BankAccountOpened(CoopEvent):
    """The cooperative's own account at a bank (its IBAN is the cooperative's, not a person's)."""

    bank_account_id: str
    iban: str
    bic: str | None
    ledger_account: str
    label: str

    def apply(self, coop: Cooperative) -> None:
        bank_state(coop).accounts[self.bank_account_id] = BankAccount(
            self.bank_account_id, self.iban, self.bic, self.ledger_account, self.label, self.effective_date
        )


class CsvMappingSet(CoopEvent):
    """How this bank writes its CSV statements (domain/bank_csv.py says every key)."""

    bank_account_id: str
    mapping: dict[str, Any]

    def apply(self, coop: Cooperative) -> None:
        bank_state(coop).accounts[self.bank_account_id].csv_mapping = dict(self.mapping)


class BankStatementImported(CoopEvent):
    """A statement's balances and the lines it brought that were not known yet (maybe none)."""

    PERSONAL: ClassVar[tuple[Personal, ...]] = (Personal("counterparty_id", LINE_IDENTITY, within="lines"),)

    bank_account_id: str
    statement_id: str
    source: str
    first_day: date
    closing_date: date
    opening_balance_cents: int
    closing_balance_cents: int
    # [{"line_id", "booked_on", "value_date", "amount_cents", "label", "counterparty_id",
    #   "counterparty_name", "counterparty_iban", "reference", "end_to_end_id", "return_reason"}]
    lines: list[dict[str, Any]]

    def apply(self, coop: Cooperative) -> None:
        state = bank_state(coop)
        account = state.accounts[self.bank_account_id]
        account.statements[self.statement_id] = Statement(
            self.statement_id,
            self.source,
            self.first_day,
            self.closing_date,
            self.opening_balance_cents,
            self.closing_balance_cents,
        )
        for line in self.lines:  # bounded by the statement's lines
            assert line["line_id"] not in state.lines, f"bank line {line['line_id']} imported twice"
            state.lines[line["line_id"]] = BankLine(
                line_id=line["line_id"],
                bank_account_id=self.bank_account_id,
                statement_id=self.statement_id,
                booked_on=_day(line["booked_on"]),
                value_date=_day(line["value_date"]) if line.get("value_date") else None,
                amount_cents=line["amount_cents"],
                label=line.get("label") or "",
                counterparty_id=line["counterparty_id"],
                counterparty_name=line.get("counterparty_name"),
                counterparty_iban=line.get("counterparty_iban"),
                reference=line.get("reference"),
                end_to_end_id=line.get("end_to_end_id"),
                return_reason=line.get("return_reason"),
            )


def _day(value: Any) -> date:
    """Dates inside a list of dicts are stored as text (the transcoder keeps top-level dates only)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


class BankLineMatched(CoopEvent):
    """A bank line paid these items, or is these entries already in the books ("entry:<n>", LinkBankLine):
    each allocation names its entry. When the line's counterparty is known to be a person, their ids
    are linked (forgetting one forgets both); bank fees name no one (`person_id` None)."""

    line_id: str
    counterparty_id: str
    person_id: str | None
    allocations: list[dict[str, Any]]  # [{"item", "amount_cents", "entry_number"}]

    def apply(self, coop: Cooperative) -> None:
        line = bank_state(coop).lines[self.line_id]
        line.matches.append({"person_id": self.person_id, "allocations": [dict(a) for a in self.allocations]})
        if self.person_id is not None:
            coop.identities.link(self.person_id, self.counterparty_id)  # type: ignore[attr-defined]
