"""The registry view: members (college, status, shares) and fee calls (paid, fully paid on)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

from domain.corrections import ReverseEntry
from domain.fees import CallFee, PayFee
from domain.membership import ExcludeMember, RedeemShares, ResignMember, SubscribeShares, TransferMember
from tests.builders import admit, found_association, found_scic, ok, rich_history


def fee_row(ledger, member_id, year, coop="demo"):
    with ledger.db.read() as tx:
        rows = tx.execute(
            "SELECT called_cents, paid_cents, called_on, fully_paid_on FROM fee_calls WHERE coop = ? AND member_id = ? AND "
            "year = ?",
            (coop, member_id, year),
        )
    return tuple(rows[0]) if rows else None


def member_row(ledger, member_id, coop="demo"):
    with ledger.db.read() as tx:
        rows = tx.execute(
            "SELECT college, status, left_on, shares, admitted_on, kind, headcount FROM members WHERE coop = ? AND member_id = ?",
            (coop, member_id),
        )
    return tuple(rows[0]) if rows else None


def test_fully_paid_on_is_the_date_of_the_payment_that_completes_the_fee(ledger, runner):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))  # 1
    runner.catch_up()
    assert fee_row(ledger, "alice", 2020) == (10000, 0, "2020-02-01", None)

    ok(ledger, PayFee("demo", "alice", 2020, Decimal("40"), date(2020, 3, 1)))  # 2
    runner.catch_up()
    assert fee_row(ledger, "alice", 2020) == (10000, 4000, "2020-02-01", None)

    ok(ledger, PayFee("demo", "alice", 2020, Decimal("60"), date(2020, 4, 1)))  # 3
    runner.catch_up()
    assert fee_row(ledger, "alice", 2020) == (10000, 10000, "2020-02-01", "2020-04-01")

    ok(ledger, ReverseEntry("demo", 3, "cheque bounced", date(2020, 4, 10)))  # 4
    runner.catch_up()
    assert fee_row(ledger, "alice", 2020) == (10000, 4000, "2020-02-01", None)

    ok(ledger, PayFee("demo", "alice", 2020, Decimal("60"), date(2020, 4, 20)))  # 5
    runner.catch_up()
    assert fee_row(ledger, "alice", 2020) == (10000, 10000, "2020-02-01", "2020-04-20")


def test_fully_paid_on_follows_effective_dates_not_recording_order(ledger, runner):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 1, 10)))
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))  # 1
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("70"), date(2020, 5, 1)))  # 2
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("30"), date(2020, 4, 1)))  # 3, back-dated
    runner.catch_up()
    assert fee_row(ledger, "alice", 2020)[1:] == (10000, "2020-02-01", "2020-05-01")
    # Paid ahead of the call's effective date: fully paid from the call, not before it exists.
    ok(ledger, admit("demo", "bob", "users", date(2020, 1, 10)))
    ok(ledger, CallFee("demo", "bob", 2020, date(2020, 3, 1)))  # 4
    ok(ledger, PayFee("demo", "bob", 2020, Decimal("100"), date(2020, 1, 15)))  # 5
    runner.catch_up()
    assert fee_row(ledger, "bob", 2020)[1:] == (10000, "2020-03-01", "2020-03-01")
    # The write side agrees: on 2020-04-30 alice had paid 30.00 of 100.00.
    call = ledger.cooperative("demo").fee_calls[("alice", 2020)]
    assert (call.paid_by(date(2020, 4, 30)), call.paid_by(date(2020, 5, 1))) == (3000, 10000)
    runner.rebuild()
    assert fee_row(ledger, "alice", 2020)[3] == "2020-05-01"


def test_a_reversed_fee_call_no_longer_stands_and_can_be_called_again(ledger, runner):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 1)))  # 1
    ok(ledger, ReverseEntry("demo", 1, "wrong member", date(2020, 2, 2)))  # 2
    runner.catch_up()
    row = fee_row(ledger, "alice", 2020)
    assert row is None or row[:2] == (0, 0)
    ok(ledger, CallFee("demo", "alice", 2020, date(2020, 2, 3)))  # 3
    runner.catch_up()
    assert fee_row(ledger, "alice", 2020)[:2] == (10000, 0)


def test_member_college_and_status_follow_transfer_resignation_and_exclusion(ledger, runner):
    ok(ledger, found_association())
    ok(ledger, admit("demo", "alice", "founders", date(2020, 2, 1)))
    ok(ledger, admit("demo", "org-b", "partners", date(2020, 2, 1), headcount=60))
    runner.catch_up()
    assert member_row(ledger, "alice") == ("founders", "active", None, 0, "2020-02-01", "person", 1)
    assert member_row(ledger, "org-b") == ("partners", "active", None, 0, "2020-02-01", "organisation", 60)

    ok(ledger, TransferMember("demo", "alice", "users", date(2020, 3, 1)))
    runner.catch_up()
    assert member_row(ledger, "alice")[:3] == ("users", "active", None)

    ok(ledger, ResignMember("demo", "alice", date(2020, 6, 30)))
    ok(ledger, ExcludeMember("demo", "org-b", date(2020, 7, 1), "statutes breached"))
    runner.catch_up()
    assert member_row(ledger, "alice")[:3] == ("users", "resigned", "2020-06-30")
    assert member_row(ledger, "org-b")[:3] == ("partners", "excluded", "2020-07-01")
    # An organisation of 60 people pays the 50+ bracket.
    ok(ledger, admit("demo", "org-c", "partners", date(2020, 7, 1), headcount=60))
    ok(ledger, CallFee("demo", "org-c", 2020, date(2020, 7, 1)))
    runner.catch_up()
    assert fee_row(ledger, "org-c", 2020)[0] == 150000


def test_shares_follow_subscriptions_redemptions_and_their_reversals(ledger, runner):
    ok(ledger, found_scic())
    ok(ledger, admit("scic", "emma", "employees", date(2020, 3, 1)))
    ok(ledger, SubscribeShares("scic", "emma", 4, date(2020, 3, 1)))  # 1
    ok(ledger, RedeemShares("scic", "emma", 1, date(2020, 6, 1)))  # 2
    runner.catch_up()
    assert member_row(ledger, "emma", "scic")[3] == 3
    ok(ledger, ReverseEntry("scic", 2, "redemption refused", date(2020, 6, 2)))  # 3
    runner.catch_up()
    assert member_row(ledger, "emma", "scic")[3] == 4
    ok(ledger, RedeemShares("scic", "emma", 4, date(2020, 7, 1)))  # 4
    refused = ledger.execute(ReverseEntry("scic", 1, "never paid", date(2020, 7, 2)), "rev-1")
    assert refused.error.rule == "shares_still_held"  # emma holds 0 < 4
    runner.catch_up()
    assert member_row(ledger, "emma", "scic")[3] == 0


def test_cooperative_row_keeps_the_statutes(ledger, runner):
    ok(ledger, found_association())
    ok(ledger, found_scic())
    runner.catch_up()
    with ledger.db.read() as tx:
        rows = {
            r[0]: r[1:]
            for r in tx.execute(
                "SELECT coop, legal_form, founded_on, share_value_cents, siren, colleges_json, fee_schedule_json FROM "
                "cooperatives"
            )
        }
        accounts = {(r[0], r[1]) for r in tx.execute("SELECT coop, number FROM accounts")}
    assert rows["demo"][:4] == ("association", "2020-01-01", None, None)
    assert rows["scic"][:4] == ("scic", "2020-01-01", 5000, "123456782")
    assert [Fraction(c["weight"]) for c in json.loads(rows["demo"][4])] == [40, 20, 20, 20]
    assert [c["weight"] for c in json.loads(rows["scic"][4])] == ["100/3"] * 3
    assert [b["amount_cents"] for b in json.loads(rows["demo"][5])] == [10000, 25050, 150000]
    assert ("demo", "7561") in accounts and ("demo", "756") not in accounts
    assert ("scic", "756") in accounts and ("scic", "7561") not in accounts


def test_projection_matches_the_write_side_after_a_rich_history(ledger, runner):
    rich_history(ledger)
    runner.catch_up()
    for slug in ("demo", "scic"):
        coop = ledger.cooperative(slug)
        with ledger.db.read() as tx:
            members = {
                r[0]: r[1:]
                for r in tx.execute("SELECT member_id, college, status, left_on, shares FROM members WHERE coop = ?", (slug,))
            }
            calls = {
                (r[0], r[1]): (r[2], r[3])
                for r in tx.execute("SELECT member_id, year, called_cents, paid_cents FROM fee_calls WHERE coop = ?", (slug,))
            }
        assert members == {
            m.member_id: (m.college, m.status.value, m.left_on.isoformat() if m.left_on else None, m.shares)
            for m in coop.members.values()
        }
        assert calls == {
            k: (c.called_cents, c.paid_cents) for k, c in coop.fee_calls.items() if (c.called_cents, c.paid_cents) != (0, 0)
        }
    assert member_row(ledger, "carol")[:3] == ("staff", "resigned", "2020-09-30")
    # 40.00 paid on 03-01 (#4), then 60.00 back-dated to 02-20 (#6): by effective dates the fee
    # is fully paid from 03-01, not from the date of the payment recorded last.
    assert fee_row(ledger, "alice", 2020)[1:] == (10000, "2020-02-01", "2020-03-01")
