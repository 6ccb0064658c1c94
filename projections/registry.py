"""Who is who: cooperatives, their charts of accounts, members and fee calls."""

from __future__ import annotations

import json
from domain.accounts import default_chart, LegalForm
from domain.cooperative import AccountAdded, CooperativeFounded
from domain.corrections import EntryReversed
from domain.fees import FeeCalled, FeePaid
from domain.membership import (
    MemberAdmitted,
    MemberExcluded,
    MemberResigned,
    MemberTransferred,
    SharesRedeemed,
    SharesSubscribed,
)
from ledger.db import Tx
from projections.base import Projection


class RegistryProjection(Projection):
    name = "registry"
    tables = ("cooperatives", "accounts", "members", "fee_calls")
    handlers = {
        CooperativeFounded: "founded",
        AccountAdded: "account_added",
        MemberAdmitted: "admitted",
        MemberTransferred: "transferred",
        MemberResigned: "left",
        MemberExcluded: "left",
        SharesSubscribed: "shares",
        SharesRedeemed: "shares",
        FeeCalled: "fee_called",
        FeePaid: "fee_paid",
        EntryReversed: "reversed",
    }

    def founded(self, tx: Tx, e: CooperativeFounded, _pos: int) -> None:
        tx.execute(
            "INSERT INTO cooperatives (coop, name, legal_form, siren, founded_on, fiscal_year_start_month,"
            " share_value_cents, colleges_json, fee_schedule_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.coop, e.name, e.legal_form, e.siren, e.effective_date.isoformat(), e.fiscal_year_start_month,
             e.share_value_cents, json.dumps(e.colleges), json.dumps(e.fee_schedule)),
        )
        chart = default_chart(LegalForm(e.legal_form))
        tx.executemany(
            "INSERT INTO accounts (coop, number, label_fr, label_en) VALUES (?, ?, ?, ?)",
            [(e.coop, a.number, a.label_fr, a.label_en) for a in chart.accounts.values()],
        )

    def account_added(self, tx: Tx, e: AccountAdded, _pos: int) -> None:
        tx.execute(
            "INSERT INTO accounts (coop, number, label_fr, label_en) VALUES (?, ?, ?, ?)",
            (e.coop, e.number, e.label_fr, e.label_en),
        )

    def admitted(self, tx: Tx, e: MemberAdmitted, _pos: int) -> None:
        tx.execute(
            "INSERT INTO members (coop, member_id, name, kind, college, headcount, admitted_on, status, left_on, shares)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'active', NULL, 0)",
            (e.coop, e.member_id, e.name, e.member_kind, e.college, e.headcount, e.effective_date.isoformat()),
        )

    def transferred(self, tx: Tx, e: MemberTransferred, _pos: int) -> None:
        tx.execute_one("UPDATE members SET college = ? WHERE coop = ? AND member_id = ?", (e.to_college, e.coop, e.member_id))

    def left(self, tx: Tx, e: MemberResigned | MemberExcluded, _pos: int) -> None:
        status = "resigned" if isinstance(e, MemberResigned) else "excluded"
        tx.execute_one("UPDATE members SET status = ?, left_on = ? WHERE coop = ? AND member_id = ?",
            (status, e.effective_date.isoformat(), e.coop, e.member_id),
        )

    def shares(self, tx: Tx, e: SharesSubscribed | SharesRedeemed, _pos: int, sign: int = 1) -> None:
        delta = e.shares if isinstance(e, SharesSubscribed) else -e.shares
        tx.execute_one("UPDATE members SET shares = shares + ? WHERE coop = ? AND member_id = ?", (sign * delta, e.coop, e.member_id))

    def fee_called(self, tx: Tx, e: FeeCalled, _pos: int) -> None:
        tx.execute(
            "INSERT INTO fee_calls (coop, member_id, year, called_cents, paid_cents, called_on, fully_paid_on)"
            " VALUES (?, ?, ?, ?, 0, ?, NULL)",
            (e.coop, e.member_id, e.year, e.amount_cents, e.effective_date.isoformat()),
        )

    def fee_paid(self, tx: Tx, e: FeePaid, _pos: int) -> None:
        self._pay(tx, e.coop, e.member_id, e.year, e.amount_cents, e.effective_date.isoformat())

    def _pay(self, tx: Tx, coop: str, member_id: str, year: int, amount: int, day: str) -> None:
        rows = tx.execute(
            "SELECT called_cents, paid_cents FROM fee_calls WHERE coop = ? AND member_id = ? AND year = ?",
            (coop, member_id, year),
        )
        assert rows, f"payment for a fee never called: {coop} {member_id} {year}"
        called, paid = rows[0]
        paid += amount
        assert 0 <= paid <= called, f"fee {coop} {member_id} {year}: paid {paid} outside 0..{called}"
        fully_paid_on = day if paid == called else None
        tx.execute(
            "UPDATE fee_calls SET paid_cents = ?, fully_paid_on = ? WHERE coop = ? AND member_id = ? AND year = ?",
            (paid, fully_paid_on, coop, member_id, year),
        )

    def reversed(self, tx: Tx, e: EntryReversed, _pos: int) -> None:
        coop, effect = e.coop, e.reversed_effect
        if e.reversed_kind == "FeePaid":
            self._pay(tx, coop, effect["member_id"], effect["year"], -effect["amount_cents"], e.effective_date.isoformat())
        elif e.reversed_kind == "FeeCalled":
            tx.execute_one("DELETE FROM fee_calls WHERE coop = ? AND member_id = ? AND year = ?", (coop, effect["member_id"], effect["year"]))
        elif e.reversed_kind in ("SharesSubscribed", "SharesRedeemed"):
            delta = effect["shares"] if e.reversed_kind == "SharesRedeemed" else -effect["shares"]
            tx.execute_one("UPDATE members SET shares = shares + ? WHERE coop = ? AND member_id = ?", (delta, coop, effect["member_id"]))


