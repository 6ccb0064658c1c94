"""A federation carries what members owe on 411 beside fee calls (both stores; domain/receivables_carry.py):
unpaid certification fees and subscription bills arrive with the opening entry, and the certifications
and subscriptions are rebuilt in the federation, so PayCertificationFee and PaySubscription collect
there and refuse overpayment, a running subscription is billed for its later periods (never twice
for a period its founder billed); fees, certifications and subscriptions together make each
member's 411; the read side shows the same; what cannot be carried is refused, writing nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from domain.certifications import (
    GrantCertification,
    PayCertificationFee,
    RenewCertification,
    RevokeCertification,
    SetCertificationTerms,
)
from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative
from domain.federation import FederateCooperatives
from domain.fees import CallFee, PayFee
from domain.membership import AdmitMember, ResignMember
from domain.subscriptions import BillSubscription, CancelSubscription, DefineSubscriptionPlan, PaySubscription, StartSubscription
from ledger.founder_books import read_founder_books
from projections.certifications import certified_on, deferred_fees
from projections.observatory_indicators import observatory
from tests.views import amounts_owed, bills, certification_of, plans, subscriptions

from .conftest import CommandRunner

START, DAY = date(2025, 1, 1), date(2025, 7, 1)
LATER = date(2025, 7, 2)
FEE = [FeeBracket(1, None, Decimal(50))]
MONTHS = ["2025-03", "2025-04", "2025-05", "2025-06"]


class Founders(CommandRunner):
    """The founders' set-up; commands accepted or refused as CommandRunner says."""

    prefix = "receivables"

    def found(self, slug: str, members: list[tuple[str, int]], certification_fee: str, monthly: str = "30") -> None:
        self.do(FoundCooperative(slug, f"Coop {slug}", "association", START, [CollegeSpec("membres", "Membres")], FEE))
        self.do(
            *(
                AdmitMember(slug, m, f"Membre {m}", "person" if n == 1 else "organisation", "membres", START, n)
                for m, n in members
            )
        )
        self.do(
            SetCertificationTerms(slug, certification_fee, date(2025, 1, 2), 12),
            DefineSubscriptionPlan(slug, "P-MONTH", "Mensuel", "project_holder", "monthly", monthly, date(2025, 1, 2)),
        )

    def federate(self, slug: str, founders: list[str], member_ids: str = "keep") -> Any:
        self.n += 1
        command = FederateCooperatives(slug, "Fédération", "association", DAY, founders, FEE, member_ids=member_ids)
        return self.ledger.execute(command, f"receivables-{self.n}")


def _founder_a(f: Founders) -> None:
    """rc-a: m1 owes 30 of its 2025 fee, 100 of certification C-A1 and 45 of subscription S-A1 (May
    half paid, June not), running; m2's C-A2 is paid and in force, its S-A2 (a provider plan) ended
    on 1 April with Q1 unpaid (60)."""
    f.found("rc-a", [("m1", 1), ("m2", 5)], "120")
    f.do(
        CallFee("rc-a", "m1", 2025, date(2025, 2, 1)),
        PayFee("rc-a", "m1", 2025, "20", date(2025, 2, 10)),
        GrantCertification("rc-a", "C-A1", "m1", date(2025, 2, 1)),
        PayCertificationFee("rc-a", "C-A1", "20", date(2025, 3, 1)),
        GrantCertification("rc-a", "C-A2", "m2", date(2025, 1, 15)),
        PayCertificationFee("rc-a", "C-A2", "120", date(2025, 2, 1)),
        DefineSubscriptionPlan("rc-a", "P-PROV", "Prestataire", "provider", "quarterly", "10", date(2025, 1, 2), "0.05"),
        StartSubscription("rc-a", "S-A1", "m1", "P-MONTH", date(2025, 3, 1)),
        StartSubscription("rc-a", "S-A2", "m2", "P-PROV", date(2025, 1, 2)),
    )
    for month, paid in zip(MONTHS, ["30", "30", "15", None], strict=True):
        f.do(BillSubscription("rc-a", "S-A1", month, date.fromisoformat(f"{month}-01")))
        if paid:
            f.do(PaySubscription("rc-a", "S-A1", month, paid, date.fromisoformat(f"{month}-20")))
    f.do(
        BillSubscription("rc-a", "S-A2", "2025-Q1", date(2025, 4, 1), "1000"),
        CancelSubscription("rc-a", "S-A2", date(2025, 4, 1), "Fin"),
    )


def _founder_b(f: Founders) -> None:
    """rc-b: n1's subscription S-B1 (the same P-MONTH plan) is paid and running; its certification
    C-B1 was revoked with its fee of 80 unpaid."""
    f.found("rc-b", [("n1", 1)], "80")
    f.do(
        StartSubscription("rc-b", "S-B1", "n1", "P-MONTH", date(2025, 5, 1)),
        GrantCertification("rc-b", "C-B1", "n1", date(2025, 2, 1)),
        RevokeCertification("rc-b", "C-B1", date(2025, 3, 1), "Non-conforme"),
    )
    for month in MONTHS[2:]:
        f.do(
            BillSubscription("rc-b", "S-B1", month, date.fromisoformat(f"{month}-01")),
            PaySubscription("rc-b", "S-B1", month, "30", date.fromisoformat(f"{month}-02")),
        )


def _owed(ledger: Any, slug: str) -> dict[str, dict[str, int]]:
    """Write side: what each member owes, per family."""
    coop = ledger.cooperative(slug)
    owed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (member_id, _year), call in coop.fee_calls.items():
        owed[member_id]["fees"] += call.due_cents
    for cert in coop.certifications.certifications.values():
        owed[cert.member_id]["certifications"] += cert.billed_cents - cert.paid_cents
    for sub in coop.subscriptions.subscriptions.values():
        owed[sub.member_id]["subscriptions"] += sum(b.amount_cents - b.paid_cents for b in sub.bills.values())
    return {m: {k: v for k, v in families.items() if v} for m, families in owed.items() if any(families.values())}


def _receivable_in_books(ledger: Any, slug: str) -> dict[str, int]:
    books = read_founder_books(ledger, ledger.cooperative(slug)).balances  # the journal, replayed
    return {party: amount for (account, party, _unit), amount in books.items() if account == "411" and amount}


def _totals(owed: dict[str, dict[str, int]]) -> dict[str, int]:
    return {m: sum(families.values()) for m, families in owed.items()}


def test_members_pay_their_carried_certifications_and_subscriptions_in_the_federation(ledger, runner, make_ledger):
    f = Founders(ledger)
    _founder_a(f)
    _founder_b(f)
    result = f.federate("rc-fed", ["rc-a", "rc-b"], member_ids="prefix")
    assert result.accepted, result.error and result.error.as_dict()

    # Write side: the certifications and subscriptions as they stood, members renamed; 411 = all three families.
    fed = ledger.cooperative("rc-fed")
    replayed = make_ledger().cooperative("rc-fed")  # the same state, replayed from the stored events
    assert (replayed.certifications, replayed.subscriptions, replayed.fee_calls) == (
        fed.certifications,
        fed.subscriptions,
        fed.fee_calls,
    )
    certs = fed.certifications.certifications
    assert {c: (x.member_id, x.billed_cents, x.paid_cents, x.revoked_on, x.expires_on) for c, x in certs.items()} == {
        "C-A1": ("rc-a.m1", 120_00, 20_00, None, date(2026, 2, 1)),
        "C-A2": ("rc-a.m2", 120_00, 120_00, None, date(2026, 1, 15)),
        "C-B1": ("rc-b.n1", 80_00, 0, date(2025, 3, 1), date(2026, 2, 1)),
    }
    assert (certs["C-A1"].fee_moves, certs["C-A1"].payments) == ([(DAY, 120_00)], [(DAY, 20_00)])  # dated moves: from D on
    subs = fed.subscriptions.subscriptions
    assert {
        s: (x.member_id, x.ends_on, {p: (b.amount_cents, b.paid_cents) for p, b in x.bills.items()}) for s, x in subs.items()
    } == {
        "S-A1": (
            "rc-a.m1",
            None,
            {"2025-03": (30_00, 30_00), "2025-04": (30_00, 30_00), "2025-05": (30_00, 15_00), "2025-06": (30_00, 0)},
        ),
        "S-A2": ("rc-a.m2", date(2025, 4, 1), {"2025-Q1": (60_00, 0)}),
        "S-B1": ("rc-b.n1", None, {"2025-05": (30_00, 30_00), "2025-06": (30_00, 30_00)}),
    }
    assert subs["S-A1"].bills["2025-05"].payments == [(DAY, 15_00)]  # what was paid by D-1, dated D
    assert sorted(fed.subscriptions.plans) == ["P-MONTH", "P-PROV"]  # P-MONTH is defined alike in both founders: once
    owed = _owed(ledger, "rc-fed")
    assert owed == {
        "rc-a.m1": {"fees": 30_00, "certifications": 100_00, "subscriptions": 45_00},
        "rc-a.m2": {"subscriptions": 60_00},
        "rc-b.n1": {"certifications": 80_00},
    }
    assert _totals(owed) == _receivable_in_books(ledger, "rc-fed")

    # What the founders would have refused, the federation refuses, writing nothing.
    assert f.refused(PayCertificationFee("rc-fed", "C-A1", "100.01", LATER)).rule == "no_overpayment"
    assert f.refused(PayCertificationFee("rc-fed", "C-B1", "80.01", LATER)).rule == "no_overpayment"
    assert f.refused(PaySubscription("rc-fed", "S-A1", "2025-06", "30.01", LATER)).rule == "no_overpayment"
    assert f.refused(PaySubscription("rc-fed", "S-A1", "2025-02", "1", LATER)).rule == "period_billed"
    assert f.refused(BillSubscription("rc-fed", "S-A1", "2025-06", LATER)).rule == "period_billed_once"
    assert f.refused(BillSubscription("rc-fed", "S-B1", "2025-05", LATER)).rule == "period_billed_once"
    assert f.refused(BillSubscription("rc-fed", "S-A2", "2025-Q3", date(2025, 10, 1), "100")).rule == "period_in_subscription"
    # ... and accepts what they would have accepted: every due paid, later periods billed, a cancellation.
    f.do(
        PayCertificationFee("rc-fed", "C-A1", "100", LATER),
        PayCertificationFee("rc-fed", "C-B1", "80", LATER),
        PaySubscription("rc-fed", "S-A1", "2025-05", "15", LATER),
        PaySubscription("rc-fed", "S-A1", "2025-06", "30", LATER),
        PaySubscription("rc-fed", "S-A2", "2025-Q1", "60", LATER),
        PayFee("rc-fed", "rc-a.m1", 2025, "30", LATER),
        BillSubscription("rc-fed", "S-A1", "2025-07", LATER),
        BillSubscription("rc-fed", "S-B1", "2025-07", LATER),
        CancelSubscription("rc-fed", "S-B1", date(2025, 8, 1), "Départ"),
    )
    assert f.refused(BillSubscription("rc-fed", "S-B1", "2025-08", date(2025, 8, 2))).rule == "period_in_subscription"
    # A carried certification in force is renewed here, at the federation's own terms (none are carried).
    renewal = RenewCertification("rc-fed", "C-A2", date(2025, 11, 1))
    assert f.refused(renewal).rule == "terms_defined"
    f.do(SetCertificationTerms("rc-fed", "100", LATER, 12), renewal)
    assert f.refused(RenewCertification("rc-fed", "C-B1", date(2025, 11, 1))).rule == "not_revoked"
    assert ledger.cooperative("rc-fed").certifications.certifications["C-A2"].expires_on == date(2027, 1, 15)
    owed = _owed(ledger, "rc-fed")
    assert owed == {
        "rc-a.m1": {"subscriptions": 30_00},
        "rc-a.m2": {"certifications": 100_00},
        "rc-b.n1": {"subscriptions": 30_00},
    }
    assert _totals(owed) == _receivable_in_books(ledger, "rc-fed")
    runner.catch_up()

    # Read side = write side.
    fed = ledger.cooperative("rc-fed")
    listed = {s["subscription_id"]: s for s in subscriptions(ledger.db, "rc-fed")}
    assert set(listed) == set(fed.subscriptions.subscriptions)
    for sid, sub in fed.subscriptions.subscriptions.items():
        row = listed[sid]
        assert (row["member_id"], row["starts_on"], row["ends_on"], row["periods_billed"]) == (
            sub.member_id,
            sub.starts_on.isoformat(),
            sub.ends_on and sub.ends_on.isoformat(),
            len(sub.bills),
        )
        assert {b["period"]: (b["amount_cents"], b["paid_cents"], b["billed_on"]) for b in bills(ledger.db, "rc-fed", sid)} == {
            p: (b.amount_cents, b.paid_cents, b.billed_on.isoformat()) for p, b in sub.bills.items()
        }
    assert {r["member_id"]: r["owed_cents"] for r in amounts_owed(ledger.db, "rc-fed") if r["owed_cents"]} == {
        m: families["subscriptions"] for m, families in owed.items() if "subscriptions" in families
    }
    assert [(p["plan_id"], p["defined_on"]) for p in plans(ledger.db, "rc-fed")] == [
        ("P-MONTH", DAY.isoformat()),
        ("P-PROV", DAY.isoformat()),
    ]
    for cert in fed.certifications.certifications.values():
        row = certification_of(ledger.db, "rc-fed", cert.member_id, LATER)
        assert (
            row["certification_id"],
            row["granted_on"],
            row["expires_on"],
            row["revoked_on"],
            row["renewals"],
            row["billed_cents"],
            row["paid_cents"],
        ) == (
            cert.certification_id,
            cert.granted_on.isoformat(),
            cert.expires_on.isoformat(),
            cert.revoked_on and cert.revoked_on.isoformat(),
            len(cert.renewals),
            cert.billed_cents,
            cert.paid_cents,
        )
    assert (
        [c["member_id"] for c in certified_on(ledger.db, "rc-fed", LATER)]
        == sorted(m for m in fed.members if fed.certifications.certified_on(m, LATER))
        == ["rc-a.m1", "rc-a.m2"]
    )
    # The carried fees were billed, and are income, in the founders' books: the cut-off here defers its own renewal only.
    deferred = deferred_fees(ledger.db, "rc-fed", date(2025, 12, 31))
    assert [(f["certification_id"], f["fee_cents"], f["deferred_cents"]) for f in deferred["fees"]] == [("C-A2", 100_00, 100_00)]
    indicators = {i["id"]: i for i in observatory(ledger.db, "rc-fed", today=LATER, position=0)["indicators"]}
    assert indicators["certifications"]["value"]["certified"] == 2
    assert {s["key"]: s["values"] for s in indicators["certifications"]["series"]}["certified"] == [2]
    # The carried bills are the founders' revenue: the federation's is its own July bills.
    assert (indicators["subscriptions"]["value"]["billed_cents"], indicators["subscriptions"]["value"]["paid_cents"]) == (
        60_00,
        105_00,
    )


def test_what_cannot_be_carried_is_refused_and_writes_nothing(ledger, runner):
    f = Founders(ledger)
    _founder_a(f)
    # k1 left rc-c owing a month of its subscription: it does not move, its due cannot.
    f.found("rc-c", [("k1", 1), ("k2", 1)], "120")
    f.do(
        StartSubscription("rc-c", "S-C1", "k1", "P-MONTH", date(2025, 3, 1)),
        BillSubscription("rc-c", "S-C1", "2025-03", date(2025, 3, 1)),
        ResignMember("rc-c", "k1", date(2025, 4, 1)),
    )
    error = f.refused_federation("fed-1", ["rc-a", "rc-c"])
    assert (error.field, error.rule) == ("founders[1]", "open_items_not_carried")
    assert "411" in error.message and "k1" in error.message and "PaySubscription" in error.message
    # Ids two founders carry: a certification, a subscription; a plan id naming another plan.
    f.found("rc-d", [("d1", 1)], "120")
    f.do(GrantCertification("rc-d", "C-A1", "d1", date(2025, 2, 1)))
    f.found("rc-e", [("e1", 1)], "120")
    f.do(StartSubscription("rc-e", "S-A1", "e1", "P-MONTH", date(2025, 5, 1)))
    f.found("rc-f", [("g1", 1)], "120", monthly="25")
    f.do(StartSubscription("rc-f", "S-F1", "g1", "P-MONTH", date(2025, 5, 1)))
    for slug, other, rule in (
        ("fed-2", "rc-d", "unique_certification"),
        ("fed-3", "rc-e", "unique_subscription"),
        ("fed-4", "rc-f", "unique_plan"),
    ):
        error = f.refused_federation(slug, ["rc-a", other])
        assert (error.field, error.rule, error.kind) == ("founders[1]", rule, "conflict"), error.as_dict()
    # Once k1 paid its bill in rc-c, nothing is stranded: the federation goes through without k1.
    f.do(PaySubscription("rc-c", "S-C1", "2025-03", "30", date(2025, 6, 1)))
    result = f.federate("fed-5", ["rc-a", "rc-c"])
    assert result.accepted, result.error and result.error.as_dict()
    assert set(ledger.cooperative("fed-5").subscriptions.subscriptions) == {"S-A1", "S-A2"}
    assert _totals(_owed(ledger, "fed-5")) == _receivable_in_books(ledger, "fed-5") == {"m1": 175_00, "m2": 60_00}
