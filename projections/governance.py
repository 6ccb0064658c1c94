"""Governance as of any date: statutes and policy in force, who may vote, college and member
weights, and general-assembly tallies. Rows are dated facts, written here; the answers are read
from them by projections/governance_reads.py, with the domain's pure functions, the same ones the
write side uses to refuse ineligible votes."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from domain.cooperative import CooperativeFounded
from domain.corrections import EntryReversed
from domain.federation import BooksSealedByFederation
from domain.fees import FeeCallCarried, FeeCalled, FeePaid
from domain.governance import CollegeRulesSet, ResolutionRecorded, StatutesAmended, VoteCast, VotingPolicySet
from domain.membership import (
    MemberAdmitted,
    MemberExcluded,
    MemberResigned,
    MemberTransferred,
    SharesCarried,
    SharesRedeemed,
    SharesSubscribed,
)
from ledger.db import Tx
from projections.base import Projection

# The answers are read by projections/governance_reads.py; the API's routes still import them from here.
from projections.governance_reads import explain_member, governance_statement, resolution_tally, weights_as_of, weights_from_rows

__all__ = [
    "GovernanceProjection",
    "explain_member",
    "governance_statement",
    "resolution_tally",
    "weights_as_of",
    "weights_from_rows",
]


class GovernanceProjection(Projection):
    name = "governance"
    tables = (
        "governance_coops",
        "governance_statutes",
        "governance_policies",
        "governance_members",
        "governance_member_colleges",
        "governance_share_moves",
        "governance_fee_moves",
        "governance_college_rules",
        "resolutions",
        "votes",
    )
    identity_columns = (("governance_members", "member_id", ("name",)),)
    handlers = {
        CooperativeFounded: "founded",
        StatutesAmended: "amended",
        VotingPolicySet: "policy",
        MemberAdmitted: "admitted",
        MemberTransferred: "transferred",
        MemberResigned: "left",
        MemberExcluded: "left",
        SharesSubscribed: "shares",
        SharesRedeemed: "shares",
        SharesCarried: "shares_carried",
        FeeCalled: "fee",
        FeePaid: "fee",
        FeeCallCarried: "fee_carried",
        EntryReversed: "reversed",
        ResolutionRecorded: "resolution",
        VoteCast: "vote",
        CollegeRulesSet: "college_rules",
        BooksSealedByFederation: "sealed",
    }

    def founded(self, tx: Tx, e: CooperativeFounded, seq: int) -> None:
        tx.execute(
            "INSERT INTO governance_coops (coop, legal_form, fiscal_year_start_month) VALUES (?, ?, ?)",
            (e.coop, e.legal_form, e.fiscal_year_start_month),
        )
        self._statutes(tx, e.coop, seq, e.effective_date, e.colleges, e.weighted, None)
        self._policy(tx, e.coop, seq, e.effective_date, e.voting_policy)

    def amended(self, tx: Tx, e: StatutesAmended, seq: int) -> None:
        self._statutes(tx, e.coop, seq, e.effective_date, e.colleges, e.weighted, e.reason)

    def policy(self, tx: Tx, e: VotingPolicySet, seq: int) -> None:
        self._policy(
            tx,
            e.coop,
            seq,
            e.effective_date,
            {"require_fee_paid": e.require_fee_paid, "min_shares": e.min_shares, "empty_college_policy": e.empty_college_policy},
        )

    def _statutes(
        self, tx: Tx, coop: str, seq: int, day: date, colleges: list[dict[str, Any]], weighted: bool, reason: str | None
    ) -> None:
        tx.execute(
            "INSERT INTO governance_statutes (coop, seq, effective_date, colleges_json, weighted, reason) VALUES (?, ?, ?, "
            "?, ?, ?)",
            (coop, seq, day.isoformat(), json.dumps(colleges), int(weighted), reason),
        )

    def _policy(self, tx: Tx, coop: str, seq: int, day: date, policy: dict[str, Any]) -> None:
        tx.execute(
            "INSERT INTO governance_policies (coop, seq, effective_date, require_fee_paid, min_shares, empty_college_policy)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (coop, seq, day.isoformat(), int(policy["require_fee_paid"]), policy["min_shares"], policy["empty_college_policy"]),
        )

    def college_rules(self, tx: Tx, e: CollegeRulesSet, seq: int) -> None:
        tx.execute(
            "INSERT INTO governance_college_rules (coop, college, seq, effective_date, require_fee_paid, min_shares, "
            "fee_schedule_json)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                e.coop,
                e.college,
                seq,
                e.effective_date.isoformat(),
                None if e.require_fee_paid is None else int(e.require_fee_paid),
                e.min_shares,
                None if e.fee_schedule is None else json.dumps(e.fee_schedule),
            ),
        )

    def admitted(self, tx: Tx, e: MemberAdmitted, seq: int) -> None:
        # left_on, left_as as parameters (None), not constants: BufferedTx then COPYs the rows.
        tx.execute(
            "INSERT INTO governance_members (coop, member_id, name, admitted_on, left_on, left_as) VALUES (?, ?, ?, ?, ?, ?)",
            (e.coop, e.member_id, e.name, e.effective_date.isoformat(), None, None),
        )
        self._college(tx, e.coop, e.member_id, seq, e.effective_date, e.college)

    def transferred(self, tx: Tx, e: MemberTransferred, seq: int) -> None:
        self._college(tx, e.coop, e.member_id, seq, e.effective_date, e.to_college)

    def _college(self, tx: Tx, coop: str, member_id: str, seq: int, day: date, college: str) -> None:
        tx.execute(
            "INSERT INTO governance_member_colleges (coop, member_id, seq, effective_date, college) VALUES (?, ?, ?, ?, ?)",
            (coop, member_id, seq, day.isoformat(), college),
        )

    def left(self, tx: Tx, e: MemberResigned | MemberExcluded, _seq: int) -> None:
        left_as = "resigned" if isinstance(e, MemberResigned) else "excluded"
        tx.execute_one(
            "UPDATE governance_members SET left_on = ?, left_as = ? WHERE coop = ? AND member_id = ?",
            (e.effective_date.isoformat(), left_as, e.coop, e.member_id),
        )

    def sealed(self, tx: Tx, e: BooksSealedByFederation, _seq: int) -> None:
        """The founder's members on the federation date moved to the federation: from that date
        they are no longer its members (as the domain says, Member.is_member_on); before it,
        nothing changes."""
        day = e.effective_date.isoformat()
        moved = tx.execute_count(
            "UPDATE governance_members SET left_on = ?, left_as = 'federated' WHERE coop = ? AND admitted_on <= ? AND "
            "left_on IS NULL",
            (day, e.coop, day),
        )
        assert moved == e.members_moved, f"{e.coop}: {moved} members marked as moved, the seal says {e.members_moved}"

    def shares(self, tx: Tx, e: SharesSubscribed | SharesRedeemed, seq: int) -> None:
        delta = e.shares if isinstance(e, SharesSubscribed) else -e.shares
        self._shares(tx, e.coop, e.member_id, seq, e.effective_date, delta)

    def shares_carried(self, tx: Tx, e: SharesCarried, seq: int) -> None:
        self._shares(tx, e.coop, e.member_id, seq, e.effective_date, e.shares)

    def _shares(self, tx: Tx, coop: str, member_id: str, seq: int, day: date, delta: int) -> None:
        tx.execute(
            "INSERT INTO governance_share_moves (coop, member_id, seq, effective_date, shares) VALUES (?, ?, ?, ?, ?)",
            (coop, member_id, seq, day.isoformat(), delta),
        )

    def fee(self, tx: Tx, e: FeeCalled | FeePaid, seq: int) -> None:
        called, paid = (e.amount_cents, 0) if isinstance(e, FeeCalled) else (0, e.amount_cents)
        self._fee(tx, e.coop, e.member_id, e.year, seq, e.effective_date, called, paid)

    def fee_carried(self, tx: Tx, e: FeeCallCarried, seq: int) -> None:
        self._fee(tx, e.coop, e.member_id, e.year, seq, e.effective_date, e.called_cents, e.paid_cents)

    def _fee(self, tx: Tx, coop: str, member_id: str, year: int, seq: int, day: date, called: int, paid: int) -> None:
        tx.execute(
            "INSERT INTO governance_fee_moves (coop, member_id, year, seq, effective_date, called_cents, paid_cents)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (coop, member_id, year, seq, day.isoformat(), called, paid),
        )

    def reversed(self, tx: Tx, e: EntryReversed, seq: int) -> None:
        effect = e.reversed_effect
        if e.reversed_kind in ("FeeCalled", "FeePaid"):
            amount = -effect["amount_cents"]
            called, paid = (amount, 0) if e.reversed_kind == "FeeCalled" else (0, amount)
            self._fee(tx, e.coop, effect["member_id"], effect["year"], seq, e.effective_date, called, paid)
        elif e.reversed_kind in ("SharesSubscribed", "SharesRedeemed"):
            delta = -effect["shares"] if e.reversed_kind == "SharesSubscribed" else effect["shares"]
            self._shares(tx, e.coop, effect["member_id"], seq, e.effective_date, delta)

    def resolution(self, tx: Tx, e: ResolutionRecorded, _seq: int) -> None:
        tx.execute(
            "INSERT INTO resolutions (coop, resolution_id, title, assembly, vote_date, threshold, threshold_strict)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.coop, e.resolution_id, e.title, e.assembly, e.effective_date.isoformat(), e.threshold, int(e.threshold_strict)),
        )

    def vote(self, tx: Tx, e: VoteCast, _seq: int) -> None:
        tx.execute(
            "INSERT INTO votes (coop, resolution_id, member_id, college, choice) VALUES (?, ?, ?, ?, ?)",
            (e.coop, e.resolution_id, e.member_id, e.college, e.choice),
        )
