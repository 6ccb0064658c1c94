"""Who is who: cooperatives, their charts of accounts, members and fee calls."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from domain.accounts import LegalForm, default_chart
from domain.cooperative import AccountAdded, CooperativeFounded
from domain.corrections import EntryReversed
from domain.federation import BooksSealedByFederation
from domain.fees import FeeCallCarried, FeeCalled, FeePaid
from domain.membership import (
    MemberAdmitted,
    MemberExcluded,
    MemberResigned,
    MemberTransferred,
    SharesCarried,
    SharesRedeemed,
    SharesSubscribed,
)
from ledger.db import Database, Tx
from projections.base import Projection
from projections.registry_fees import FeeCallsInBatch


class RegistryProjection(Projection):
    name = "registry"
    tables = ("cooperatives", "accounts", "members", "fee_calls")
    identity_columns = (("members", "member_id", ("name",)),)
    handlers = {
        CooperativeFounded: "founded",
        AccountAdded: "account_added",
        MemberAdmitted: "admitted",
        MemberTransferred: "transferred",
        MemberResigned: "left",
        MemberExcluded: "left",
        SharesSubscribed: "shares",
        SharesRedeemed: "shares",
        SharesCarried: "shares_carried",
        FeeCalled: "fee_called",
        FeePaid: "fee_paid",
        FeeCallCarried: "fee_carried",
        BooksSealedByFederation: "sealed",
        EntryReversed: "reversed",
    }

    def founded(self, tx: Tx, e: CooperativeFounded, _pos: int) -> None:
        tx.execute(
            "INSERT INTO cooperatives (coop, name, legal_form, siren, founded_on, fiscal_year_start_month,"
            " share_value_cents, colleges_json, fee_schedule_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                e.coop,
                e.name,
                e.legal_form,
                e.siren,
                e.effective_date.isoformat(),
                e.fiscal_year_start_month,
                e.share_value_cents,
                json.dumps(e.colleges),
                json.dumps(e.fee_schedule),
            ),
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
            # Every value a parameter, so BufferedTx can COPY a page's admissions on PostgreSQL.
            "INSERT INTO members (coop, member_id, name, kind, college, headcount, admitted_on, status, left_on, shares)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.coop, e.member_id, e.name, e.member_kind, e.college, e.headcount, e.effective_date.isoformat(), "active", None, 0),
        )

    def transferred(self, tx: Tx, e: MemberTransferred, _pos: int) -> None:
        tx.execute_one("UPDATE members SET college = ? WHERE coop = ? AND member_id = ?", (e.to_college, e.coop, e.member_id))

    def left(self, tx: Tx, e: MemberResigned | MemberExcluded, _pos: int) -> None:
        status = "resigned" if isinstance(e, MemberResigned) else "excluded"
        tx.execute_one(
            "UPDATE members SET status = ?, left_on = ? WHERE coop = ? AND member_id = ?",
            (status, e.effective_date.isoformat(), e.coop, e.member_id),
        )

    def sealed(self, tx: Tx, e: BooksSealedByFederation, _pos: int) -> None:
        """The founder's books are sealed; its members on that date moved to the federation."""
        day = e.effective_date.isoformat()
        tx.execute_one("UPDATE cooperatives SET federated_into = ?, sealed_on = ? WHERE coop = ?", (e.federation, day, e.coop))
        moved = tx.execute_count(
            "UPDATE members SET status = 'federated', left_on = ? WHERE coop = ? AND status = 'active'", (day, e.coop)
        )
        assert moved == e.members_moved, f"{e.coop}: {moved} active members marked as moved, the seal says {e.members_moved}"

    def shares(self, tx: Tx, e: SharesSubscribed | SharesRedeemed, _pos: int, sign: int = 1) -> None:
        delta = e.shares if isinstance(e, SharesSubscribed) else -e.shares
        tx.execute_one(
            "UPDATE members SET shares = shares + ? WHERE coop = ? AND member_id = ?", (sign * delta, e.coop, e.member_id)
        )

    def shares_carried(self, tx: Tx, e: SharesCarried, _pos: int) -> None:
        """A founder's shares, converted to the federation's share value (the member was admitted just before)."""
        tx.execute_one("UPDATE members SET shares = shares + ? WHERE coop = ? AND member_id = ?", (e.shares, e.coop, e.member_id))

    def process(self, tx: Tx, batch: Sequence[tuple[int, Any]]) -> None:
        # The fee calls this batch's payments and reversals touch, read at once, changed in
        # memory and written at the end (projections/registry_fees.py).
        keys = [(e.coop, e.member_id, e.year) for _p, e in batch if isinstance(e, FeePaid)]
        keys += [
            (e.coop, e.reversed_effect["member_id"], e.reversed_effect["year"])
            for _p, e in batch
            if isinstance(e, EntryReversed) and e.reversed_kind in ("FeePaid", "FeeCalled")
        ]
        self._fees = FeeCallsInBatch(tx, keys)
        super().process(tx, batch)
        self._fees.write(tx)

    def fee_called(self, tx: Tx, e: FeeCalled, _pos: int) -> None:
        self._fees.call((e.coop, e.member_id, e.year), e.amount_cents, 0, e.effective_date.isoformat(), None, None)

    def fee_carried(self, tx: Tx, e: FeeCallCarried, _pos: int) -> None:
        """A founder's fee call, as it stood on the federation date (called and paid on that date here)."""
        day = e.effective_date.isoformat()
        self._fees.call(
            (e.coop, e.member_id, e.year),
            e.called_cents,
            e.paid_cents,
            day,
            day if e.paid_cents else None,
            day if e.paid_cents == e.called_cents else None,
        )

    def fee_paid(self, tx: Tx, e: FeePaid, _pos: int) -> None:
        self._fees.pay((e.coop, e.member_id, e.year), e.amount_cents, e.effective_date.isoformat())

    def reversed(self, tx: Tx, e: EntryReversed, _pos: int) -> None:
        coop, effect = e.coop, e.reversed_effect
        if e.reversed_kind == "FeePaid":
            self._fees.pay((coop, effect["member_id"], effect["year"]), -effect["amount_cents"], e.effective_date.isoformat())
        elif e.reversed_kind == "FeeCalled":
            self._fees.delete((coop, effect["member_id"], effect["year"]))
        elif e.reversed_kind in ("SharesSubscribed", "SharesRedeemed"):
            delta = effect["shares"] if e.reversed_kind == "SharesRedeemed" else -effect["shares"]
            tx.execute_one(
                "UPDATE members SET shares = shares + ? WHERE coop = ? AND member_id = ?", (delta, coop, effect["member_id"])
            )


# ---------------------------------------------------------------- reading


def cooperative_slugs(db: Database) -> list[str]:
    with db.read() as tx:
        return [r[0] for r in tx.execute("SELECT coop FROM cooperatives ORDER BY coop")]


def cooperative_summary(db: Database, coop: str) -> dict[str, Any] | None:
    with db.read() as tx:
        found = tx.execute(
            "SELECT name, legal_form, siren, founded_on, fiscal_year_start_month, share_value_cents, colleges_json,"
            " fee_schedule_json, federated_into, sealed_on FROM cooperatives WHERE coop = ?",
            (coop,),
        )
        if not found:
            return None
        name, form, siren, founded, start_month, share_value, colleges, schedule, federated_into, sealed_on = found[0]
        total, active = tx.execute(
            "SELECT COUNT(*), SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) FROM members WHERE coop = ?", (coop,)
        )[0]
        entries = tx.execute("SELECT COUNT(*) FROM journal_entries WHERE coop = ?", (coop,))[0][0]
    return {
        "coop": coop,
        "name": name,
        "legal_form": form,
        "siren": siren,
        "founded_on": founded,
        "fiscal_year_start_month": start_month,
        "share_value_cents": share_value,
        "colleges": json.loads(colleges),
        "fee_schedule": json.loads(schedule),
        "members": int(total),
        "active_members": int(active or 0),
        "journal_entries": int(entries),
        # Sealed books record nothing more and stay readable (domain/federation.py).
        "sealed_by_federation": {"federation": federated_into, "effective_date": sealed_on} if federated_into else None,
    }


def member_standing(db: Database, coop: str, year: int) -> list[dict[str, Any]]:
    """Each member with college, status, shares and the given year's fee: called, paid, standing."""
    with db.read() as tx:
        rows = tx.execute(
            "SELECT m.member_id, m.name, m.kind, m.college, m.status, m.admitted_on, m.left_on, m.shares,"
            " f.called_cents, f.paid_cents, f.fully_paid_on FROM members m LEFT JOIN fee_calls f"
            " ON f.coop = m.coop AND f.member_id = m.member_id AND f.year = ? WHERE m.coop = ? ORDER BY m.member_id",
            (year, coop),
        )
    return [
        {
            "coop": coop,
            "member_id": member_id,
            "name": name,
            "kind": kind,
            "college": college,
            "status": status,
            "admitted_on": admitted,
            "left_on": left,
            "shares": int(shares),
            "year": year,
            "fee_called_cents": called,
            "fee_paid_cents": paid,
            "in_good_standing": called is not None and called > 0 and called == paid,
            "fully_paid_on": fully_paid_on,
        }
        for member_id, name, kind, college, status, admitted, left, shares, called, paid, fully_paid_on in rows
    ]
