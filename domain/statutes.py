"""What statutes may say, checked: voting colleges and their weights, fee schedules, the voting
policy, the SIREN. Pure validation of command fields, shared by founding a cooperative
(domain/cooperative.py), amending its statutes and setting a college's own rules
(domain/governance.py). Each refusal names the field and the rule."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from domain.accounts import LegalForm
from domain.errors import InvalidCommand
from domain.money import Unit, to_minor
from domain.rules import identifier, text, whole_number

HUNDRED = Fraction(100)
MAX_COLLEGES = 20
MAX_FEE_BRACKETS = 20


def validate_colleges(specs: Any, legal_form: LegalForm) -> tuple[list[dict[str, Any]], bool]:
    if not isinstance(specs, list) or not specs:
        raise InvalidCommand("colleges", "required", "at least one voting college is required")
    if len(specs) > MAX_COLLEGES:
        raise InvalidCommand("colleges", "max_items", f"at most {MAX_COLLEGES} colleges")
    given = [spec.weight is not None for spec in specs]
    if any(given) and not all(given):
        raise InvalidCommand("colleges", "weights_all_or_none", "give a weight to every college or to none")
    weighted = all(given)
    colleges = []
    for i, spec in enumerate(specs):
        code = identifier(spec.code, f"colleges[{i}].code")
        name = text(spec.name, f"colleges[{i}].name")
        if weighted:
            try:
                weight = Fraction(str(spec.weight).strip())
            except (ValueError, ZeroDivisionError):
                raise InvalidCommand(
                    f"colleges[{i}].weight", "fraction", f"{spec.weight!r} is not a percentage such as 40, 12.5 or 100/3"
                ) from None
            if weight <= 0:
                raise InvalidCommand(f"colleges[{i}].weight", "positive", f"must be more than 0%, got {weight}")
        else:
            weight = HUNDRED / len(specs)
        colleges.append({"code": code, "name": name, "weight": str(weight)})
    codes = [c["code"] for c in colleges]
    if len(set(codes)) != len(codes):
        raise InvalidCommand("colleges", "unique_codes", "two colleges share a code")
    total = sum(Fraction(c["weight"]) for c in colleges)
    if total != HUNDRED:
        raise InvalidCommand("colleges", "weights_sum_100", f"weights must sum to 100%, they sum to {float(total):g}%")
    if legal_form is LegalForm.SCIC:
        # Loi 47-1775 (SCIC): 3 colleges or more; if weighted, each holds 10% to 50% of the votes.
        if len(colleges) < 3:
            raise InvalidCommand("colleges", "scic_min_colleges", f"a SCIC needs at least 3 colleges, got {len(colleges)}")
        if weighted:
            for i, c in enumerate(colleges):
                w = Fraction(c["weight"])
                if not Fraction(10) <= w <= Fraction(50):
                    raise InvalidCommand(
                        f"colleges[{i}].weight",
                        "scic_weight_bounds",
                        f"a SCIC college holds between 10% and 50% of the votes, {c['code']} has {float(w):g}%",
                    )
    return colleges, weighted


def fee_schedule_of(brackets: Any) -> list[dict[str, Any]]:
    """A validated fee schedule (brackets by headcount, amounts in cents), for the cooperative's
    statutes or a college's own rules."""
    if not isinstance(brackets, list) or not brackets:
        raise InvalidCommand("fee_schedule", "required", "at least one fee bracket is required")
    if len(brackets) > MAX_FEE_BRACKETS:
        raise InvalidCommand("fee_schedule", "max_items", f"at most {MAX_FEE_BRACKETS} brackets")
    schedule = []
    expected_min = 1
    for i, b in enumerate(brackets):
        lo = whole_number(b.min_headcount, f"fee_schedule[{i}].min_headcount", minimum=1, maximum=10**7)
        if lo != expected_min:
            raise InvalidCommand(
                f"fee_schedule[{i}].min_headcount",
                "contiguous_brackets",
                f"brackets must follow each other from headcount 1: expected {expected_min}, got {lo}",
            )
        hi = b.max_headcount
        last = i == len(brackets) - 1
        if last and hi is not None:
            raise InvalidCommand(
                f"fee_schedule[{i}].max_headcount", "open_last_bracket", "the last bracket has no upper bound (null)"
            )
        if not last:
            if hi is None:
                raise InvalidCommand(
                    f"fee_schedule[{i}].max_headcount", "required", "only the last bracket may have no upper bound"
                )
            hi = whole_number(hi, f"fee_schedule[{i}].max_headcount", minimum=lo, maximum=10**7)
            expected_min = hi + 1
        amount_cents = to_minor(b.amount, Unit.EUR, f"fee_schedule[{i}].amount")
        schedule.append({"min_headcount": lo, "max_headcount": hi, "amount_cents": amount_cents})
    return schedule


EMPTY_COLLEGE_POLICIES = ("redistribute", "unassigned")


def validate_voting_policy(
    require_fee_paid: Any, min_shares: Any, empty_college_policy: Any, legal_form: LegalForm
) -> dict[str, Any]:
    if not isinstance(require_fee_paid, bool):
        raise InvalidCommand("require_fee_paid", "boolean", "must be true or false")
    min_shares = whole_number(min_shares, "min_shares", minimum=0, maximum=1_000_000)
    if min_shares and not legal_form.has_capital:
        raise InvalidCommand("min_shares", "no_capital", "an association has no capital shares to require")
    if empty_college_policy not in EMPTY_COLLEGE_POLICIES:
        raise InvalidCommand(
            "empty_college_policy", "known_policy", f"{empty_college_policy!r} is not one of {', '.join(EMPTY_COLLEGE_POLICIES)}"
        )
    return {"require_fee_paid": require_fee_paid, "min_shares": min_shares, "empty_college_policy": empty_college_policy}


def check_siren(value: Any, field: str = "siren") -> str:
    """A SIREN (the INSEE's company number, needed e.g. to name the FEC file): 9 digits whose
    Luhn checksum is valid, which catches a mistyped digit or two swapped neighbours."""
    if not (isinstance(value, str) and len(value) == 9 and value.isascii() and value.isdigit()):
        raise InvalidCommand(field, "siren", f"{value!r} is not a SIREN (9 digits)")
    total = 0
    for i, digit in enumerate(int(ch) for ch in reversed(value)):
        doubled = digit * 2 if i % 2 else digit  # every second digit from the right is doubled
        total += doubled - 9 if doubled > 9 else doubled
    if total % 10:
        raise InvalidCommand(field, "siren_checksum", f"{value!r} fails the SIREN check digit (Luhn): a digit is mistyped")
    return value
