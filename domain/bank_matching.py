"""Which open item a bank line pays: proposals, each with its reason in words and its confidence,
and the confirmation that records the payments (docs/rules.md "Bank statements and reconciliation").

Proposals are computed from the aggregate's state when asked (a pure function, no view): they depend
on what is open now and on the lines not yet matched, both in memory on the write side, and they are
read by the treasurer a few times a day; a view would duplicate the open items of five families.

Order: (1) the structured reference the cooperative printed on the call (`reference_of`): "sure";
(2) the exact amount still to match, and the payer's IBAN or name: "sure" with a single candidate,
else "likely"; an exact amount alone: "possible"; (3) a member, contract, subscription,
certification or pledge id in the line's label: "likely" with the exact amount, else "possible".
A payer's known IBANs come from the lines already matched to them and from PAYER_IBANS, where a
family that keeps mandates (SEPA direct debits) may add its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.advertising_state import advertising_state
from domain.bank_items import OpenItem, compact_reference, due_on, open_items, pay, reference_of
from domain.bank_state import BankLine, BankLineMatched, bank_state
from domain.errors import Conflict, DomainError, InvalidCommand
from domain.events import Meta
from domain.money import EurosIn, Unit, format_minor, to_minor

if TYPE_CHECKING:
    from domain.cooperative import Cooperative

MAX_ALLOCATIONS = 20
CONFIDENCES = ("sure", "likely", "possible")
# (cooperative, person id) -> IBANs known to be that person's. A SEPA family appends its mandates' reader.
PAYER_IBANS: list[Callable[[Cooperative, str], Iterable[str]]] = []


@dataclass(frozen=True)
class Allocation:
    item: str  # "fee:MED-01:2026"... (domain/bank_items.py)
    amount: EurosIn | None = None  # left out: what is left of the line, up to what the item still owes


@dataclass(frozen=True)
class ConfirmBankMatch:
    coop: str
    line_id: str
    allocations: list[Allocation]


@dataclass(frozen=True)
class ConfirmSureBankMatches:
    coop: str
    bank_account_id: str


# ---------------------------------------------------------------- reading


def line_view(coop: Cooperative, line: BankLine) -> dict[str, Any]:
    allocated = line.allocated_cents(coop.journal)
    status = "unmatched" if allocated == 0 else "matched" if allocated == abs(line.amount_cents) else "partly matched"
    return {
        "line_id": line.line_id,
        "bank_account_id": line.bank_account_id,
        "statement_id": line.statement_id,
        "booked_on": line.booked_on.isoformat(),
        "value_date": line.value_date.isoformat() if line.value_date else None,
        "amount": format_minor(line.amount_cents, Unit.EUR)
        if line.amount_cents >= 0
        else "-" + format_minor(-line.amount_cents, Unit.EUR),
        "amount_cents": line.amount_cents,
        "label": line.label,
        "counterparty_name": line.counterparty_name,
        "counterparty_iban": line.counterparty_iban,
        "reference": line.reference,
        "end_to_end_id": line.end_to_end_id,
        "return_reason": line.return_reason,
        "allocated_cents": allocated,
        "status": status,
        "allocations": line.allocations(coop.journal),
    }


def _normal(name: str | None) -> str:
    """A name as compared: no accents, no case, letters and digits separated by single spaces."""
    plain = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().casefold()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def _tokens(label: str) -> set[str]:
    return {t.upper() for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]|[A-Za-z0-9]", label or "")}


def _names(coop: Cooperative, person_id: str) -> set[str]:
    names = set()
    member = coop.members.get(person_id)
    if member is not None:
        names.add(_normal(member.name))
    names.update(_normal(c.advertiser_name) for c in advertising_state(coop).contracts.values() if c.advertiser_id == person_id)
    return names - {""}


def known_ibans(coop: Cooperative) -> dict[str, set[str]]:
    """Person -> the IBANs they paid from: the lines matched to them. Once per read, bounded by the lines."""
    found: dict[str, set[str]] = {}
    for line in bank_state(coop).lines.values():
        for match in line.matches if line.counterparty_iban else ():
            found.setdefault(match["person_id"], set()).add(line.counterparty_iban)  # type: ignore[arg-type]
    return found


def payer_ibans(coop: Cooperative, person_id: str, known: dict[str, set[str]] | None = None) -> set[str]:
    """The IBANs a person paid from before (matched lines), and those a hook of PAYER_IBANS knows."""
    found = set((known if known is not None else known_ibans(coop)).get(person_id, ()))
    for hook in PAYER_IBANS:  # bounded by the hooks registered
        found.update(hook(coop, person_id))
    return {iban for iban in found if iban}


def _identity(coop: Cooperative, line: BankLine, person_id: str, known: dict[str, set[str]]) -> str | None:
    """How the line's payer is the person, in words, or None."""
    if line.counterparty_iban and line.counterparty_iban in payer_ibans(coop, person_id, known):
        return f"the payer's IBAN is one {person_id} paid from"
    if line.counterparty_name and _normal(line.counterparty_name) in _names(coop, person_id):
        return f"the payer's name is {person_id}'s"
    return None


def _ids_of(item: OpenItem) -> set[str]:
    return {part.upper() for part in item.item.split(":")[1:2]} | {item.person_id.upper()}


def _proposal(items: list[tuple[OpenItem, int]], reason: str, confidence: str) -> dict[str, Any]:
    return {
        "person_id": items[0][0].person_id,
        "allocations": [
            {"item": i.item, "amount": format_minor(c, Unit.EUR), "amount_cents": c, "what": i.what} for i, c in items
        ],
        "reason": reason,
        "confidence": confidence,
    }


def proposals_for(
    coop: Cooperative, line: BankLine, items: list[OpenItem] | None = None, known: dict[str, set[str]] | None = None
) -> list[dict[str, Any]]:
    """What the line may pay, most certain first. Empty for a debit, a returned or a matched line.
    `items` and `known` (open items, payers' IBANs) are computed once by a caller asking for many lines."""
    left = line.amount_cents - line.allocated_cents(coop.journal)
    if line.amount_cents <= 0 or left <= 0 or line.return_reason:
        return []
    payable = [i for i in (items if items is not None else open_items(coop)) if i.since <= line.booked_on]
    known = known if known is not None else known_ibans(coop)
    found: list[dict[str, Any]] = []
    reference = compact_reference(line.reference) or next((r for t in _tokens(line.label) if (r := compact_reference(t))), None)
    for item in payable:
        if reference is not None and reference == reference_of(item.item):
            found.append(
                _proposal(
                    [(item, min(left, item.open_cents))], f"structured reference {reference} is that of {item.what}", "sure"
                )
            )
    exact = [i for i in payable if i.open_cents == left]
    proposed = {a["item"] for p in found for a in p["allocations"]}
    recognised = [(i, why) for i in exact if i.item not in proposed and (why := _identity(coop, line, i.person_id, known))]
    for item, why in recognised:
        level = "sure" if len(recognised) == 1 else "likely"
        found.append(
            _proposal([(item, left)], f"exact amount {format_minor(left, Unit.EUR)} EUR of {item.what}, and {why}", level)
        )
    tokens = _tokens(line.label)
    for item in payable:
        named = sorted(_ids_of(item) & tokens)
        if named and all(item.item != a["item"] for p in found for a in p["allocations"]):
            level = "likely" if item.open_cents == left else "possible"
            found.append(
                _proposal([(item, min(left, item.open_cents))], f"the label names {', '.join(named)}: {item.what}", level)
            )
    _several(coop, line, left, payable, found, known)
    for item in exact:
        if all(item.item != a["item"] for p in found for a in p["allocations"]):
            found.append(
                _proposal(
                    [(item, left)],
                    f"exact amount {format_minor(left, Unit.EUR)} EUR of {item.what}, payer not recognised",
                    "possible",
                )
            )
    return sorted(found, key=lambda p: CONFIDENCES.index(p["confidence"]))


def _several(
    coop: Cooperative, line: BankLine, left: int, payable: list[OpenItem], found: list[dict[str, Any]], known: dict[str, set[str]]
) -> None:
    """One transfer paying every open item of one recognised payer: proposed when they add up to it."""
    by_person: dict[str, list[OpenItem]] = {}
    for item in payable:
        by_person.setdefault(item.person_id, []).append(item)
    for person, items in sorted(by_person.items()):
        why = _identity(coop, line, person, known) or (
            f"the label names {person}" if person.upper() in _tokens(line.label) else None
        )
        if len(items) > 1 and why and sum(i.open_cents for i in items) == left:
            words = ", ".join(i.what for i in items)
            found.append(_proposal([(i, i.open_cents) for i in items], f"{why}, and the amount is the sum of {words}", "likely"))


def proposals(coop: Cooperative, bank_account_id: str | None = None) -> list[dict[str, Any]]:
    """Each credit line not fully matched, with its proposals (maybe none)."""
    items, known = open_items(coop), known_ibans(coop)
    return [
        {"line": line_view(coop, line), "proposals": proposals_for(coop, line, items, known)}
        for line in bank_state(coop).lines.values()
        if (bank_account_id is None or line.bank_account_id == bank_account_id)
        and line.amount_cents > 0
        and line.allocated_cents(coop.journal) < line.amount_cents
    ]


# ---------------------------------------------------------------- confirming


def _check_line(coop: Cooperative, line: BankLine) -> int:
    """What is left of the line to allocate; refuses a line that cannot take payments."""
    account = bank_state(coop).accounts[line.bank_account_id]
    bank = coop.chart.role("bank")
    if account.ledger_account != bank:
        raise InvalidCommand(
            "line_id",
            "bank_role_account",
            f"payments are booked on the chart's bank account {bank}; bank account {account.bank_account_id} is kept on "
            f"{account.ledger_account}: record this payment with a manual entry (several bank accounts come later)",
        )
    if line.amount_cents <= 0:
        raise InvalidCommand("line_id", "credit_line", f"line {line.line_id} is a debit: only money in pays what is owed")
    if line.return_reason:
        raise InvalidCommand(
            "line_id", "not_returned", f"line {line.line_id} is a return ({line.return_reason}): it pays nothing"
        )
    left = line.amount_cents - line.allocated_cents(coop.journal)
    if left <= 0:
        entries = ", ".join(str(n) for n in line.entry_numbers())
        raise Conflict(
            "line_id",
            "matched_once",
            f"line {line.line_id} is already matched (entries {entries}): reverse those payment entries to unmatch it",
        )
    return left


def _allocations(coop: Cooperative, line: BankLine, cmd: ConfirmBankMatch, left: int) -> tuple[str, list[tuple[str, int]]]:
    """(the payer, [(item, cents)]) checked against the line and every item before anything is paid."""
    given = cmd.allocations if isinstance(cmd.allocations, list) else []
    if not 1 <= len(given) <= MAX_ALLOCATIONS:
        raise InvalidCommand("allocations", "allocations_count", f"give 1 to {MAX_ALLOCATIONS} allocations")
    chosen: list[tuple[str, int]] = []
    payers: set[str] = set()
    for i, allocation in enumerate(given):
        if any(item == allocation.item for item, _c in chosen):
            raise InvalidCommand(f"allocations[{i}].item", "distinct_items", f"{allocation.item} is allocated twice")
        person, due = due_on(coop, allocation.item, line.booked_on)
        room = left - sum(c for _i, c in chosen)
        cents = min(due, room) if allocation.amount is None else to_minor(allocation.amount, Unit.EUR, f"allocations[{i}].amount")
        if cents <= 0 or cents > due:
            raise InvalidCommand(
                f"allocations[{i}].amount",
                "no_overpayment",
                f"{allocation.item} owes {format_minor(max(due, 0), Unit.EUR)} EUR on {line.booked_on}",
            )
        if cents > room:
            raise InvalidCommand(
                f"allocations[{i}].amount", "within_line", f"the line has {format_minor(room, Unit.EUR)} EUR left to allocate"
            )
        chosen.append((allocation.item, cents))
        payers.add(person)
    if len(payers) > 1:
        raise InvalidCommand(
            "allocations", "one_payer", f"a line comes from one payer: these items are owed by {', '.join(sorted(payers))}"
        )
    return payers.pop(), chosen


def _confirm(coop: Cooperative, cmd: ConfirmBankMatch, meta: Meta) -> dict[str, Any]:
    line = bank_state(coop).line(cmd.line_id)
    left = _check_line(coop, line)
    coop.check_effective_date(line.booked_on, "line_id")
    person, chosen = _allocations(coop, line, cmd, left)
    recorded = [
        {"item": item, "amount_cents": cents, "entry_number": pay(coop, item, cents, line.booked_on, meta)}
        for item, cents in chosen
    ]
    coop.record(
        BankLineMatched,
        effective_date=line.booked_on,
        meta=meta,
        line_id=line.line_id,
        counterparty_id=line.counterparty_id,
        person_id=person,
        allocations=recorded,
    )
    return {"line_id": line.line_id, "person_id": person, "allocations": recorded}


def confirm_bank_match(coop: Cooperative, cmd: ConfirmBankMatch, meta: Meta) -> dict[str, Any]:
    return _confirm(coop, cmd, meta)


def confirm_sure_bank_matches(coop: Cooperative, cmd: ConfirmSureBankMatches, meta: Meta) -> dict[str, Any]:
    """Confirms every line whose only sure proposal is unambiguous, one after the other (each
    confirmation changes what is open for the next). The report lists them."""
    account = bank_state(coop).account(cmd.bank_account_id)
    confirmed: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for line in list(bank_state(coop).lines.values()):  # bounded by the lines imported
        if line.bank_account_id != account.bank_account_id:
            continue
        sure = [p for p in proposals_for(coop, line) if p["confidence"] == "sure"]
        if len(sure) != 1:
            continue
        allocations = [Allocation(a["item"], a["amount"]) for a in sure[0]["allocations"]]
        try:  # _confirm checks everything before it records: a refusal leaves nothing half done
            done = _confirm(coop, ConfirmBankMatch(coop.slug, line.line_id, allocations), meta)
        except DomainError as error:
            skipped.append({"line_id": line.line_id, "error": error.as_dict()})
            continue
        confirmed.append({**done, "reason": sure[0]["reason"]})
    return {"bank_account_id": account.bank_account_id, "confirmed": confirmed, "count": len(confirmed), "skipped": skipped}
