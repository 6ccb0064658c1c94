"""Capital shares carried by a federation (both stores): domain/shares_carry.py.

Two SCIC founders (shares of 50 and 20 EUR) and an association (no capital) federate into a SCIC
whose share is worth 10 EUR: each moving member's capital moves, converted to shares of 10 EUR;
RedeemShares redeems them there, no further; eligibility (min_shares) counts them on both sides;
a share value that does not divide a member's capital, a federation without capital, and the
capital of a member who left are refused, writing nothing."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from domain.cooperative import CollegeSpec, FeeBracket, FoundCooperative, coop_id
from domain.federation import FederateCooperatives
from domain.governance import member_eligibility
from domain.membership import AdmitMember, RedeemShares, ResignMember, SharesCarried, SubscribeShares
from ledger.founder_books import read_founder_books
from projections.balances import account_balance
from projections.governance import explain_member, weights_as_of
from projections.registry import member_standing
from tests.builders import new_key, ok

START, DAY = date(2025, 1, 1), date(2025, 7, 1)
LATER = date(2025, 9, 1)
COLLEGES = [CollegeSpec("employees", "Salariés"), CollegeSpec("users", "Usagers"), CollegeSpec("supporters", "Soutiens")]
FEES = [FeeBracket(1, None, Decimal(30))]
# founder -> (legal form, share value in EUR, {member: shares subscribed, shares redeemed})
FOUNDERS: dict[str, tuple[str, str | None, dict[str, tuple[int, int]]]] = {
    "s1": ("scic", "50", {"A": (3, 0), "B": (4, 2), "D": (0, 0)}),
    "s2": ("scic", "20", {"X": (5, 0), "Y": (1, 0)}),
    "a1": ("association", None, {"Z": (0, 0)}),
}
FED_VALUE_CENTS = 10_00
# Capital in the founders (cents) and the federation's shares of 10 EUR it makes.
CARRIED = {"s1.A": (150_00, 15, 3), "s1.B": (100_00, 10, 2), "s2.X": (100_00, 10, 5), "s2.Y": (20_00, 2, 1)}


def _build(ledger, *, resigned_holding: bool = False) -> None:
    for slug, (form, value, members) in FOUNDERS.items():
        ok(
            ledger,
            FoundCooperative(
                slug, f"Coopérative {slug}", form, START, COLLEGES, FEES, share_value=Decimal(value) if value else None
            ),
            new_key(slug),
        )
        extra = {"C": (1, 0)} if resigned_holding and slug == "s1" else {}
        for i, (mid, (subscribed, redeemed)) in enumerate({**members, **extra}.items()):
            ok(ledger, AdmitMember(slug, mid, f"Membre {mid}", "person", "employees", date(2025, 1, 10 + i)), new_key(slug))
            if subscribed:
                ok(ledger, SubscribeShares(slug, mid, subscribed, date(2025, 2, 1)), new_key(slug))
            if redeemed:
                ok(ledger, RedeemShares(slug, mid, redeemed, date(2025, 4, 1)), new_key(slug))
        if extra:  # C leaves still holding her share: her capital stays in s1's books
            ok(ledger, ResignMember(slug, "C", date(2025, 5, 1)), new_key(slug))


def _federation(**changes: Any) -> FederateCooperatives:
    command = FederateCooperatives(
        "fed",
        "Fédération",
        "scic",
        DAY,
        list(FOUNDERS),
        FEES,
        share_value=Decimal("10"),
        require_fee_paid=False,
        min_shares=10,
        member_ids="prefix",
    )
    return dataclasses.replace(command, **changes)


def _federated(ledger, runner):
    _build(ledger)
    result = ledger.execute(_federation(), new_key("fed"))
    assert result.accepted, result.error and result.error.as_dict()
    runner.catch_up()
    return result


def test_shares_and_capital_are_carried_at_the_federations_share_value(ledger, runner):
    result = _federated(ledger, runner)
    fed = ledger.cooperative("fed")
    assert {m: fed.members[m].shares for m in fed.members} == {
        "s1.A": 15,
        "s1.B": 10,
        "s1.D": 0,
        "s2.X": 10,
        "s2.Y": 2,
        "a1.Z": 0,
    }
    assert fed.members["s1.A"].share_moves == [(DAY, 15)]
    carried = [e for e in ledger.app.events.get(coop_id("fed")) if isinstance(e, SharesCarried)]
    assert {e.member_id: (e.capital_cents, e.shares, e.founder_shares) for e in carried} == CARRIED
    assert {(e.founder, e.founder_member_id) for e in carried} == {("s1", "A"), ("s1", "B"), ("s2", "X"), ("s2", "Y")}
    # Write side: each member's capital = shares x the federation's share value, as SubscribeShares keeps it.
    balances = read_founder_books(ledger, fed).balances
    capital = {party: amount for (account, party, _unit), amount in balances.items() if account == "1013"}
    assert capital == {m: -shares * FED_VALUE_CENTS for m, (_c, shares, _f) in CARRIED.items()}
    assert capital == {m: -cents for m, (cents, _s, _f) in CARRIED.items()}
    # The report lists the capital carried per member, next to the founders' other open items.
    open_items = {
        (f["coop"], i["party"]): i["amount_minor"]
        for f in result.report["founders"]
        for i in f["open_items"]
        if i["account"] == "1013"
    }
    assert open_items == {("s1", "s1.A"): -150_00, ("s1", "s1.B"): -100_00, ("s2", "s2.X"): -100_00, ("s2", "s2.Y"): -20_00}
    # Read side == write side: the registry's shares and the capital per party.
    rows = {r["member_id"]: r["shares"] for r in member_standing(ledger.db, "fed", 2025)}
    assert rows == {m: fed.members[m].shares for m in fed.members}
    for member in CARRIED:
        assert account_balance(ledger.db, "fed", "1013", party=member, as_of=DAY) == capital[member]
    assert account_balance(ledger.db, "fed", "1013", as_of=DAY) == -370_00


def test_carried_shares_are_redeemed_in_the_federation_and_no_more(ledger, runner):
    _federated(ledger, runner)
    day = date(2025, 7, 15)
    position = ledger.position()
    too_many = ledger.execute(RedeemShares("fed", "s1.B", 11, day), new_key())
    assert not too_many.accepted and too_many.error.rule == "shares_held", too_many.error.as_dict()
    assert "holds 10 share(s)" in too_many.error.message
    none_held = ledger.execute(RedeemShares("fed", "a1.Z", 1, day), new_key())
    assert none_held.error.rule == "shares_held"
    assert ledger.position() == position
    ok(ledger, RedeemShares("fed", "s1.A", 15, day))
    ok(ledger, RedeemShares("fed", "s1.B", 4, day))
    ok(ledger, SubscribeShares("fed", "a1.Z", 3, day))
    again = ledger.execute(RedeemShares("fed", "s1.A", 1, date(2025, 7, 16)), new_key())
    assert again.error.rule == "shares_held" and "holds 0 share(s)" in again.error.message
    fed = ledger.cooperative("fed")
    assert (fed.members["s1.A"].shares, fed.members["s1.B"].shares, fed.members["a1.Z"].shares) == (0, 6, 3)
    runner.catch_up()
    balances = read_founder_books(ledger, fed).balances
    for member in ("s1.A", "s1.B", "a1.Z", "s2.X"):
        expected = -fed.members[member].shares * FED_VALUE_CENTS
        assert balances.get(("1013", member, "EUR"), 0) == expected
        assert account_balance(ledger.db, "fed", "1013", party=member) == expected
    rows = {r["member_id"]: r["shares"] for r in member_standing(ledger.db, "fed", 2025)}
    assert rows == {m: fed.members[m].shares for m in fed.members}


def _eligible(ledger, day: date) -> dict[str, bool]:
    fed = ledger.cooperative("fed")
    return {m: member_eligibility(fed, m, day).eligible for m in fed.members}


def test_eligibility_counts_carried_shares_on_both_sides(ledger, runner):
    _federated(ledger, runner)
    ok(ledger, RedeemShares("fed", "s2.X", 1, date(2025, 8, 1)))  # 9 shares left: under min_shares 10
    runner.catch_up()
    fed = ledger.cooperative("fed")
    # min_shares 10: the founders' 2 and 5 shares count as 10 once converted; 2 (Y) do not.
    assert _eligible(ledger, DAY) == {"s1.A": True, "s1.B": True, "s1.D": False, "s2.X": True, "s2.Y": False, "a1.Z": False}
    assert _eligible(ledger, LATER) == {**_eligible(ledger, DAY), "s2.X": False}
    for day in (DAY, LATER):
        for member in fed.members:
            read = explain_member(ledger.db, "fed", member, day)
            write = member_eligibility(fed, member, day).as_dict()
            assert {k: read[k] for k in write} == write, (member, day)
        voters = {v["member_id"] for v in weights_as_of(ledger.db, "fed", day)["voters"]}
        assert voters == {m for m, yes in _eligible(ledger, day).items() if yes}
    shares_reason = next(r for r in explain_member(ledger.db, "fed", "s1.B", DAY)["reasons"] if r["rule"] == "min_shares")
    assert shares_reason["ok"] and "holds 10 share(s)" in shares_reason["detail"]
    assert explain_member(ledger.db, "fed", "s1.B", date(2025, 6, 30)) is None  # before the federation was founded


def test_refusals_write_nothing(ledger, runner):
    _build(ledger, resigned_holding=True)
    position = ledger.position()
    # C left s1 holding one share (50 EUR on 1013): she does not move, so nothing carries her capital.
    left = ledger.execute(_federation(), new_key())
    assert not left.accepted and (left.error.field, left.error.rule) == ("founders[0]", "open_items_not_carried")
    assert "1013" in left.error.message and "for C" in left.error.message and "RedeemShares" in left.error.message
    # A's 150 EUR is not a whole number of shares of 100 EUR.
    inexact = ledger.execute(_federation(share_value=Decimal("100")), new_key())
    assert (inexact.error.field, inexact.error.rule) == ("share_value", "shares_convert_exactly"), inexact.error.as_dict()
    assert all(word in inexact.error.message for word in ("s1 member A", "3 share(s)", "150.00 EUR", "100.00 EUR"))
    # 3 EUR divides neither 20 nor 50 EUR shares... nor Y's 20 EUR: refused on the first founder met.
    odd = ledger.execute(_federation(share_value=Decimal("3")), new_key())
    assert (odd.error.field, odd.error.rule) == ("share_value", "shares_convert_exactly")
    # An association has no capital to carry shares into.
    association = ledger.execute(_federation(legal_form="association", share_value=None, min_shares=0), new_key())
    assert (association.error.field, association.error.rule) == ("share_value", "has_capital"), association.error.as_dict()
    assert "s1 member A" in association.error.message
    assert ledger.position() == position
    assert all(ledger.cooperative(slug).sealed_by_federation is None for slug in FOUNDERS)
    assert list(ledger.app.events.get(coop_id("fed"))) == []
    # Once C's share is redeemed in s1 (a member who left may still be repaid), the federation goes through.
    ok(ledger, RedeemShares("s1", "C", 1, date(2025, 6, 1)))
    done = ledger.execute(_federation(), new_key())
    assert done.accepted, done.error and done.error.as_dict()
    assert "s1.C" not in ledger.cooperative("fed").members and ledger.cooperative("fed").members["s1.A"].shares == 15


def test_an_association_federation_of_founders_without_shares_needs_no_share_value(ledger, runner):
    _build(ledger)
    for slug, mid, shares in (("s1", "A", 3), ("s1", "B", 2), ("s2", "X", 5), ("s2", "Y", 1)):
        ok(ledger, RedeemShares(slug, mid, shares, date(2025, 6, 1)))
    result = ledger.execute(_federation(legal_form="association", share_value=None, min_shares=0), new_key())
    assert result.accepted, result.error and result.error.as_dict()
    fed = ledger.cooperative("fed")
    assert fed.share_value_cents is None and all(m.shares == 0 for m in fed.members.values())
    assert not [e for e in ledger.app.events.get(coop_id("fed")) if isinstance(e, SharesCarried)]
