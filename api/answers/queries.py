"""What the books' reads answer (api/routes_queries.py): the cooperative, its trial balance, an
account's balance and statement, the journal, members' fee standing, governance weights and tallies.

The projections answer integers of minor units; the functions at the end of this module turn their
dicts into these models' wire form (api/wire.py): amounts as `Amount` strings, their unit said by a
`unit` field beside them or by the field name's suffix.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import ConfigDict, Field

from api.wire import Amount, UnitCode, WireModel, amount, amounts_in, eur

DAY = "A date YYYY-MM-DD."
FRACTION = 'An exact fraction of 100 as text ("40", "100/3"): percentage points, never a float.'


# ---------------------------------------------------------------- the cooperative


class CollegeWeight(WireModel):
    code: str = Field(description="The college's code.")
    name: str = Field(description="The college's name.")
    weight: str | None = Field(None, description=FRACTION + " None: every college gets an equal share.")


class FeeBand(WireModel):
    min_headcount: int = Field(description="Smallest headcount this band covers.")
    max_headcount: int | None = Field(None, description="Largest headcount this band covers; None: no upper bound.")
    amount_eur: Amount = Field(description="The yearly fee for a member in this band, in euros.")


class SealedByFederation(WireModel):
    federation: str = Field(description="The federation these books were merged into.")
    effective_date: str = Field(description="The day the books were sealed. " + DAY)


class CoopSummary(WireModel):
    coop: str = Field(description="The cooperative's id.")
    name: str = Field(description="Its registered name.")
    legal_form: str = Field(description="Its legal form (association, scic, scop...).")
    siren: str | None = Field(None, description="Its SIREN number, when it has one.")
    founded_on: str = Field(description="The day it was founded. " + DAY)
    fiscal_year_start_month: int = Field(description="The month (1-12) its fiscal year starts.")
    share_value_eur: Amount | None = Field(None, description="The value of one share in euros; None: no shares.")
    colleges: list[CollegeWeight] = Field(description="Its voting colleges and their statutory weights.")
    fee_schedule: list[FeeBand] = Field(description="The yearly fee by headcount band.")
    members: int = Field(description="Members ever admitted.")
    active_members: int = Field(description="Members active today.")
    journal_entries: int = Field(description="Entries in its journal.")
    sealed_by_federation: SealedByFederation | None = Field(
        None, description="Set once the books were merged into a federation: they record nothing more."
    )


# ---------------------------------------------------------------- balances and the journal


class TrialBalanceRow(WireModel):
    account: str = Field(description="The account number (French chart of accounts).")
    label_fr: str = Field(description="The account's name in French.")
    label_en: str = Field(description="The account's name in English.")
    unit: UnitCode = Field(description="The unit of this row's amounts.")
    debit: Amount = Field(description="Sum of the debits, in `unit`.")
    credit: Amount = Field(description="Sum of the credits, in `unit`.")
    balance: Amount = Field(description="Debit minus credit, in `unit`.")


class TrialBalanceTotal(WireModel):
    unit: UnitCode = Field(description="The unit of this row's amounts.")
    debit: Amount = Field(description="Sum of every account's debits in `unit`; equals `credit`.")
    credit: Amount = Field(description="Sum of every account's credits in `unit`.")


class TrialBalance(WireModel):
    coop: str = Field(description="The cooperative's id.")
    as_of: str | None = Field(None, description="Inclusive last day read; None: everything recorded. " + DAY)
    accounts: list[TrialBalanceRow] = Field(description="One row per account and unit.")
    totals: list[TrialBalanceTotal] = Field(description="One row per unit, in unit order.")


class AccountBalance(WireModel):
    coop: str = Field(description="The cooperative's id.")
    account: str = Field(description="The account number.")
    party: str | None = Field(None, description="The party (member, donor...) read on the account; None: the whole account.")
    unit: UnitCode = Field(description="The unit of `balance`.")
    as_of: str | None = Field(None, description="Inclusive last day read; None: everything recorded. " + DAY)
    balance: Amount = Field(description="Debits minus credits, in `unit`.")


class StatementLine(WireModel):
    effective_date: str = Field(description="The entry's effective date. " + DAY)
    number: int = Field(description="The journal entry's number.")
    label: str = Field(description="The entry's label.")
    party: str | None = Field(None, description="The party of this line, if any.")
    unit: UnitCode = Field(description="The unit of this line's amounts (the statement's).")
    debit: Amount = Field(description="The line's debit in `unit` (0.00 for a credit).")
    credit: Amount = Field(description="The line's credit in `unit` (0.00 for a debit).")
    balance: Amount = Field(description="The running balance after this line, in `unit`.")


class AccountStatement(WireModel):
    coop: str = Field(description="The cooperative's id.")
    account: str = Field(description="The account number.")
    party: str | None = Field(None, description="The party read on the account; None: the whole account.")
    unit: UnitCode = Field(description="The unit of every amount of this statement, its lines' included.")
    as_of: str | None = Field(None, description="Inclusive last day read; None: everything recorded. " + DAY)
    lines: list[StatementLine] = Field(description="This page's lines, in date order.")
    total_lines: int = Field(description="Lines of the whole statement, every page.")
    closing_balance: Amount = Field(description="The balance after the last line of the whole statement, in `unit`.")


class JournalPosting(WireModel):
    account: str = Field(description="The account number.")
    party: str | None = Field(None, description="The party on the account, if any.")
    unit: UnitCode = Field(description="The unit of `amount`.")
    amount: Amount = Field(description="Positive: a debit; negative: a credit. An entry's postings sum to 0 per unit.")


class JournalEntry(WireModel):
    number: int = Field(description="The entry's number, from 1, without gaps.")
    kind: str = Field(description="The event that recorded it (FeeCalled, EntryReversed...).")
    effective_date: str = Field(description="Its effective date. " + DAY)
    recorded_at: str = Field(description="When it was recorded (ISO 8601, UTC).")
    label: str = Field(description="Its label.")
    actor: str = Field(description="Who recorded it (key:<id>, cli...).")
    idempotency_key: str = Field(description="The command's idempotency key.")
    reverses: int | None = Field(None, description="The entry this one reverses, if any.")
    reversed_by: int | None = Field(None, description="The entry that reverses this one, if any.")
    chain_hash: str = Field(description="The hash chain's value after this entry.")
    position: int = Field(description="The event's position in the log.")
    postings: list[JournalPosting] = Field(description="Its postings.")


class JournalPage(WireModel):
    coop: str = Field(description="The cooperative's id.")
    entries: list[JournalEntry] = Field(description="Entries numbered after `after`, in order.")
    next_after: int = Field(description="Pass it as `after` to read the next page.")
    more: bool = Field(description="Whether another page follows now.")


# ---------------------------------------------------------------- members


class MemberStanding(WireModel):
    coop: str = Field(description="The cooperative's id.")
    member_id: str = Field(description="The member's id.")
    college: str | None = Field(None, description="The member's college, if any.")
    status: str = Field(description="active, resigned, excluded...")
    year: int = Field(description="The fee's year.")
    fee_called_eur: Amount | None = Field(None, description="The year's fee called, in euros; None: not called.")
    fee_paid_eur: Amount | None = Field(None, description="What was paid of it, in euros; None: not called.")
    in_good_standing: bool = Field(description="Whether a fee was called and is fully paid.")
    fully_paid_on: str | None = Field(None, description="The day it was fully paid, if it is. " + DAY)


class MemberRow(MemberStanding):
    name: str = Field(description="The member's name.")
    kind: str = Field(description="individual or organisation.")
    admitted_on: str = Field(description="The day the member was admitted. " + DAY)
    left_on: str | None = Field(None, description="The day the member left, if so. " + DAY)
    shares: int = Field(description="Shares held.")


class MemberList(WireModel):
    coop: str = Field(description="The cooperative's id.")
    year: int = Field(description="The fees' year.")
    members: list[MemberRow] = Field(description="Every member, by id.")


# ---------------------------------------------------------------- governance


class VotingPolicy(WireModel):
    effective_date: str = Field(description="The day this policy took effect. " + DAY)
    require_fee_paid: bool = Field(description="Whether a member must have paid the year's fee to vote.")
    min_shares: int = Field(description="Shares a member must hold to vote.")
    empty_college_policy: str = Field(description="What an empty college's weight does: redistribute or lapse.")


class CollegeRulesInForce(WireModel):
    require_fee_paid: bool = Field(description="Whether this college's members must have paid the fee to vote.")
    min_shares: int = Field(description="Shares this college's members must hold to vote.")


class GovernanceCollege(WireModel):
    code: str = Field(description="The college's code.")
    name: str = Field(description="The college's name.")
    statutory_weight: str = Field(description="Its weight in the statutes. " + FRACTION)
    members: int = Field(description="Its members on the day.")
    eligible_members: int = Field(description="Those of them who may vote.")
    effective_weight: str = Field(description="Its weight once empty colleges are accounted for. " + FRACTION)
    member_weight: str | None = Field(None, description="Each voter's weight; None: nobody may vote. " + FRACTION)


class GovernanceFlag(WireModel):
    college: str = Field(description="The college concerned.")
    rule: str = Field(description="The rule at stake (scic_weight_bounds).")
    message: str = Field(description="What is wrong, in English.")


class Voter(WireModel):
    member_id: str = Field(description="The member's id.")
    name: str = Field(description="The member's name.")
    college: str = Field(description="The member's college.")
    vote_weight: str = Field(description="The member's vote. " + FRACTION)


class GovernanceWeights(WireModel):
    coop: str = Field(description="The cooperative's id.")
    as_of: str = Field(description="The day read. " + DAY)
    legal_form: str | None = Field(None, description="The legal form; None before founding.")
    statutes_since: str | None = Field(None, description="The day the statutes in force took effect. " + DAY)
    policy: VotingPolicy | None = Field(None, description="The voting policy in force; None before founding.")
    fee_year: int | None = Field(None, description="The fiscal year whose fee counts for eligibility.")
    college_rules: dict[str, CollegeRulesInForce] = Field({}, description="Rules of their own, by college code.")
    colleges: list[GovernanceCollege] = Field(description="Each college's weights.")
    unassigned_weight: str | None = Field(None, description="Weight nobody holds (empty colleges). " + FRACTION)
    flags: list[GovernanceFlag] = Field([], description="Legal bounds the weights break.")
    voters: list[Voter] = Field([], description="Every member who may vote, with their weight.")
    voters_total_weight: str | None = Field(None, description="The voters' weights summed. " + FRACTION)
    note: str | None = Field(None, description='"before founding" when the day precedes the statutes; then lists are empty.')


class BilingualText(WireModel):
    fr: str = Field(description="In French.")
    en: str = Field(description="In English.")


class EligibilityReason(WireModel):
    rule: str = Field(description="The rule checked (admitted, not_left, fee_paid, min_shares).")
    ok: bool = Field(description="Whether the member meets it.")
    detail: str = Field(description="Why, in English, from a fixed set of templates.")
    text: BilingualText | None = Field(None, description="The rule and its detail, readable, in both languages.")


class VoteEligibility(WireModel):
    coop: str = Field(description="The cooperative's id.")
    as_of: str = Field(description="The day read. " + DAY)
    member_id: str = Field(description="The member's id.")
    name: str | None = Field(None, description="The member's name (None when not a member on the day).")
    college: str | None = Field(None, description="The member's college on the day.")
    eligible: bool = Field(description="Whether the member may vote on the day.")
    reasons: list[EligibilityReason] = Field(description="Every rule checked, in order.")


class TallyCollege(WireModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(description="The college's code.")
    votes_for: int = Field(alias="for", description="Votes for.")
    against: int = Field(description="Votes against.")
    abstain: int = Field(description="Abstentions.")
    blank: int = Field(description="Blank votes.")
    cast: int = Field(description="Votes for or against.")
    share_for: str | None = Field(None, description="for / cast, exact; None: nobody voted for or against.")
    weight_used: str = Field(description="The college's weight in the result. " + FRACTION)
    contribution: str = Field(description="What it adds to the result, exact.")
    carried: bool = Field(description="Whether most of its cast votes were for.")


class Tally(WireModel):
    coop: str = Field(description="The cooperative's id.")
    resolution_id: str = Field(description="The resolution's id.")
    title: str = Field(description="Its title.")
    assembly: str = Field(description="The kind of general assembly (ordinary, extraordinary).")
    vote_date: str = Field(description="The day of the vote. " + DAY)
    threshold: str = Field(description="The share needed to adopt, exact (1/2, 2/3).")
    strict: bool = Field(description="Whether the result must exceed the threshold (not only reach it).")
    adopted: bool = Field(description="Whether it was adopted.")
    result: str = Field(description="The weighted share for, exact.")
    result_percent: str = Field(description="The same in percent, two decimals.")
    carried_by: list[str] = Field(description="The colleges where most cast votes were for.")
    head: str = Field(description="The event chain's head the tally was read at (N:HASH): for the minutes.")
    colleges: list[TallyCollege] = Field(description="Each college's votes.")


# ---------------------------------------------------------------- from the projections' dicts


def coop_summary(summary: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in summary.items() if k != "share_value_cents"}
    out["share_value_eur"] = eur(summary["share_value_cents"])
    out["colleges"] = [{"code": c["code"], "name": c["name"], "weight": c.get("weight")} for c in summary["colleges"]]
    out["fee_schedule"] = [
        {"min_headcount": b["min_headcount"], "max_headcount": b.get("max_headcount"), "amount_eur": eur(b["amount_cents"])}
        for b in summary["fee_schedule"]
    ]
    return out


def _sides(row: dict[str, Any], *names: str) -> dict[str, Any]:
    """`row` with its `names` amounts, integers of `row["unit"]`'s minor unit, in the wire's form."""
    return {**row, **{name: amount(row[name], row["unit"]) for name in names}}


def trial_balance(report: dict[str, Any]) -> dict[str, Any]:
    return {
        **report,
        "accounts": [_sides(row, "debit", "credit", "balance") for row in report["accounts"]],
        "totals": [_sides({"unit": unit, **sums}, "debit", "credit") for unit, sums in sorted(report["totals"].items())],
    }


def statement(report: dict[str, Any]) -> dict[str, Any]:
    unit = report["unit"]
    formatted = amounts_in(unit)  # the unit checked once for the page's hundreds of amounts
    return {
        **report,
        "lines": [
            {
                **line,
                "unit": unit,
                "debit": formatted(line["debit"]),
                "credit": formatted(line["credit"]),
                "balance": formatted(line["balance"]),
            }
            for line in report["lines"]
        ],  # fmt: skip
        "closing_balance": formatted(report["closing_balance"]),
    }


def journal_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "postings": [_sides(p, "amount") for p in e["postings"]]} for e in entries]


def standing(row: dict[str, Any]) -> dict[str, Any]:
    """A member_standing row as the wire says it (fees in euros)."""
    out = {k: v for k, v in row.items() if k not in ("fee_called_cents", "fee_paid_cents")}
    return {**out, "fee_called_eur": eur(row["fee_called_cents"]), "fee_paid_eur": eur(row["fee_paid_cents"])}


def governance(report: dict[str, Any]) -> dict[str, Any]:
    # Before founding the projection also lists `members: []`: nothing to say the model does not.
    # Every key the model declares, null when the report has none (before founding it has few): the
    # route sends this dict as it is (api/responses.py Answer), not re-written from the model.
    defaults = {name: copy.copy(value) for name, value in _governance_defaults().items()}  # no empty list shared by two answers
    return {**defaults, **{k: v for k, v in report.items() if k != "members"}}


@cache
def _governance_defaults() -> dict[str, Any]:
    """Read from the model once, not per answer (pydantic copies every default on each call)."""
    return {n: f.get_default(call_default_factory=True) for n, f in GovernanceWeights.model_fields.items() if not f.is_required()}
