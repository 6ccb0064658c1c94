"""The governance projection as of any date, against SQLite and PostgreSQL: college and member
weights (exact fractions of 100, written "25/3"), the explanation of one member's eligibility,
weighted tallies, rebuild from zero, and the `coopledger` commands that show them.

Every expected figure is computed by hand in the comments.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from cli.main import build
from domain.cooperative import CollegeSpec
from domain.corrections import ReverseEntry
from domain.fees import CallFee, PayFee
from domain.governance import AmendStatutes, CastVote, RecordResolution, SetVotingPolicy, member_eligibility
from domain.membership import ExcludeMember, RedeemShares, ResignMember, SubscribeShares, TransferMember
from projections.governance import GovernanceProjection, explain_member, resolution_tally, weights_as_of
from tests.builders import admit, found_association, found_scic, ok
from tests.ledger.test_governance import FEE, JOINED, PAID, VOTE_DAY, cluster, found_weighted_scic, general_assembly, join

cli = build()  # every command registered, as `coopledger` has them

F = Fraction


def colleges(report: dict[str, Any]) -> dict[str, tuple[str, int, int, str, str | None]]:
    """code -> (statutory, members, eligible, effective, per member), as the projection writes them."""
    return {
        c["code"]: (c["statutory_weight"], c["members"], c["eligible_members"], c["effective_weight"], c["member_weight"])
        for c in report["colleges"]
    }


def vote_weights(report: dict[str, Any]) -> dict[str, str]:
    return {v["member_id"]: v["vote_weight"] for v in report["voters"]}


def weights(ledger, runner, coop: str, day: date) -> dict[str, Any]:
    runner.catch_up()
    report = weights_as_of(ledger.db, coop, day)
    assert report is not None
    return report


# ---------------------------------------------------------------- weights as of a date


def test_cluster_weights_with_an_empty_college_redistributed(ledger, runner):
    cluster(ledger)
    report = weights(ledger, runner, "cluster", VOTE_DAY)
    # Research is empty (its one member owes the fee): 40/80, 20/80, 20/80 of 100 -> 50, 25, 25;
    # per member 50/5 = 10, 25/3, 25/2. public has 3 members, 2 eligible (public-3 paid 40 of 100).
    assert colleges(report) == {
        "media": ("40", 5, 5, "50", "10"),
        "companies": ("20", 3, 3, "25", "25/3"),
        "research": ("20", 1, 0, "0", None),
        "public": ("20", 3, 2, "25", "25/2"),
    }
    assert vote_weights(report) == {
        **{f"media-{i}": "10" for i in range(1, 6)},
        **{f"company-{i}": "25/3" for i in range(1, 4)},
        "public-1": "25/2",
        "public-2": "25/2",
    }
    assert report["voters_total_weight"] == "100" and report["unassigned_weight"] == "0"
    assert report["flags"] == [] and report["legal_form"] == "association" and report["fee_year"] == 2020
    # Listed by member id on every store (SQLite and PostgreSQL return unordered rows differently).
    assert [v["member_id"] for v in report["voters"]] == [
        "company-1",
        "company-2",
        "company-3",
        "media-1",
        "media-2",
        "media-3",
        "media-4",
        "media-5",
        "public-1",
        "public-2",
    ]
    assert report["policy"]["empty_college_policy"] == "redistribute" and report["statutes_since"] == "2020-01-01"


def test_cluster_weights_with_the_empty_college_left_unassigned(ledger, runner):
    cluster(ledger, empty_college_policy="unassigned")
    report = weights(ledger, runner, "cluster", VOTE_DAY)
    # Statutory weights kept: per member 40/5 = 8, 20/3, 20/2 = 10; research's 20 unassigned.
    assert {code: (row[3], row[4]) for code, row in colleges(report).items()} == {
        "media": ("40", "8"),
        "companies": ("20", "20/3"),
        "research": ("0", None),
        "public": ("20", "10"),
    }
    assert report["unassigned_weight"] == "20" and report["voters_total_weight"] == "80"


def test_before_anyone_paid_nobody_votes_and_before_founding_there_is_nothing(ledger, runner):
    cluster(ledger)
    early = weights(ledger, runner, "cluster", PAID - timedelta(days=1))  # fees called, none paid yet
    assert {code: row[1:] for code, row in colleges(early).items()} == {
        "media": (5, 0, "0", None),
        "companies": (3, 0, "0", None),
        "research": (1, 0, "0", None),
        "public": (3, 0, "0", None),
    }
    assert early["voters"] == [] and early["unassigned_weight"] == "100" and early["voters_total_weight"] == "0"
    founding_eve = weights(ledger, runner, "cluster", date(2019, 12, 31))
    assert founding_eve["colleges"] == [] and founding_eve["note"] == "before founding"
    assert weights_as_of(ledger.db, "nowhere", VOTE_DAY) is None


def test_scic_amendment_changes_weights_from_its_date_and_the_past_stays_queryable(ledger, runner):
    ok(ledger, found_scic())
    for member_id, college in [("emma", "employees"), ("eric", "employees"), ("fred", "beneficiaries"), ("gina", "supporters")]:
        join(ledger, "scic", member_id, college)
        ok(ledger, CallFee("scic", member_id, 2021, date(2020, 12, 1)))
        ok(ledger, PayFee("scic", member_id, 2021, FEE, date(2020, 12, 15)))
    ok(
        ledger,
        AmendStatutes(
            "scic",
            date(2021, 1, 1),
            [
                CollegeSpec("employees", "Salariés", "50"),
                CollegeSpec("beneficiaries", "Bénéficiaires", "30"),
                CollegeSpec("supporters", "Soutiens", "20"),
            ],
            "AGE du 2020-12-10",
        ),
    )
    before = weights(ledger, runner, "scic", date(2020, 12, 31))
    after = weights(ledger, runner, "scic", date(2021, 1, 1))
    # Before: 3 equal colleges of 100/3; employees' two members get 100/6 = 50/3 each.
    assert colleges(before) == {
        "employees": ("100/3", 2, 2, "100/3", "50/3"),
        "beneficiaries": ("100/3", 1, 1, "100/3", "100/3"),
        "supporters": ("100/3", 1, 1, "100/3", "100/3"),
    }
    # From 2021-01-01: 50/30/20; employees' members 25 each.
    assert colleges(after) == {
        "employees": ("50", 2, 2, "50", "25"),
        "beneficiaries": ("30", 1, 1, "30", "30"),
        "supporters": ("20", 1, 1, "20", "20"),
    }
    assert (before["statutes_since"], after["statutes_since"]) == ("2020-01-01", "2021-01-01")
    assert before["voters_total_weight"] == after["voters_total_weight"] == "100"
    assert before["flags"] == after["flags"] == []


def test_a_scic_redistribution_past_half_is_flagged(ledger, runner):
    # docs/rules.md, Voting colleges (empty colleges): 40/20/20/20, c and d empty: a = 40/60 of 100 = 200/3 (66.67%), b = 100/3.
    ok(ledger, found_weighted_scic())
    join(ledger, "scic4", "a1", "a")
    join(ledger, "scic4", "a2", "a")
    join(ledger, "scic4", "b1", "b")
    report = weights(ledger, runner, "scic4", VOTE_DAY)
    assert {code: row[3] for code, row in colleges(report).items()} == {"a": "200/3", "b": "100/3", "c": "0", "d": "0"}
    assert vote_weights(report) == {"a1": "100/3", "a2": "100/3", "b1": "100/3"}
    assert [(f["college"], f["rule"]) for f in report["flags"]] == [("a", "scic_weight_bounds")]
    assert "66.67%" in report["flags"][0]["message"]
    # Once c has an eligible member: 40/80 = 50, 25, 25: within bounds, no flag.
    join(ledger, "scic4", "c1", "c", on=date(2020, 7, 1), paid_on=date(2020, 7, 1))
    later = weights(ledger, runner, "scic4", date(2020, 7, 1))
    assert {code: row[3] for code, row in colleges(later).items()} == {"a": "50", "b": "25", "c": "25", "d": "0"}
    assert later["flags"] == []
    # The past is unchanged.
    assert weights(ledger, runner, "scic4", VOTE_DAY)["flags"] == report["flags"]


def test_policy_versions_change_who_votes(ledger, runner):
    ok(ledger, found_scic())
    join(ledger, "scic", "emma", "employees", shares=1)
    join(ledger, "scic", "fred", "beneficiaries", pay=None, shares=2)
    join(ledger, "scic", "gina", "supporters", shares=2)
    ok(ledger, SetVotingPolicy("scic", date(2020, 6, 1), min_shares=2))
    ok(ledger, SetVotingPolicy("scic", date(2020, 9, 1), require_fee_paid=False, min_shares=2, empty_college_policy="unassigned"))
    # May: fee rule only: emma and gina, 50 each (beneficiaries empty, redistributed).
    assert vote_weights(weights(ledger, runner, "scic", date(2020, 5, 31))) == {"emma": "50", "gina": "50"}
    # June: 2 shares needed, emma holds 1: gina alone -> 100, flagged (a SCIC college over 50%).
    june = weights(ledger, runner, "scic", date(2020, 6, 1))
    assert vote_weights(june) == {"gina": "100"} and [f["college"] for f in june["flags"]] == ["supporters"]
    # September: fees no longer required, empty colleges unassigned: fred and gina, 100/3 each.
    september = weights(ledger, runner, "scic", date(2020, 9, 1))
    assert vote_weights(september) == {"fred": "100/3", "gina": "100/3"}
    assert september["unassigned_weight"] == "100/3" and september["policy"]["min_shares"] == 2


def test_resigned_excluded_and_transferred_members_as_of_each_date(ledger, runner):
    ok(ledger, found_association("demo"))
    for member_id, college in [("f1", "founders"), ("f2", "founders"), ("u1", "users"), ("p1", "partners"), ("s1", "staff")]:
        join(ledger, "demo", member_id, college)
    ok(ledger, ResignMember("demo", "f2", date(2020, 5, 1)))
    ok(ledger, ExcludeMember("demo", "p1", date(2020, 5, 1), "unpaid"))
    ok(ledger, TransferMember("demo", "s1", "users", date(2020, 5, 1)))
    april = weights(ledger, runner, "demo", date(2020, 4, 30))
    # All four colleges: 40/2 = 20 per founder, 20 each for the others.
    assert vote_weights(april) == {"f1": "20", "f2": "20", "u1": "20", "p1": "20", "s1": "20"}
    may = weights(ledger, runner, "demo", date(2020, 5, 1))
    # founders 1, users 2, partners and staff empty: 40/60 -> 200/3, 20/60 -> 100/3 split in 2.
    assert vote_weights(may) == {"f1": "200/3", "u1": "50/3", "s1": "50/3"}
    assert {code: row[1:3] for code, row in colleges(may).items()} == {
        "founders": (1, 1),
        "users": (2, 2),
        "partners": (0, 0),
        "staff": (0, 0),
    }


def test_reversing_a_payment_removes_eligibility_from_the_reversal_date(ledger, runner):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "alice", "founders")  # entries 1 (call) and 2 (payment on 2020-03-01)
    join(ledger, "demo", "bob", "users")
    ok(ledger, ReverseEntry("demo", 2, "cheque bounced", date(2020, 5, 1)))
    assert vote_weights(weights(ledger, runner, "demo", date(2020, 4, 30))) == {"alice": "200/3", "bob": "100/3"}
    assert vote_weights(weights(ledger, runner, "demo", date(2020, 5, 1))) == {"bob": "100"}


# ---------------------------------------------------------------- explain


def test_explain_a_member_becoming_eligible_the_day_the_fee_is_fully_paid(ledger, runner):
    ok(ledger, found_association("demo"))
    ok(ledger, admit("demo", "alice", "founders", JOINED))
    ok(ledger, CallFee("demo", "alice", 2020, JOINED))
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("40"), date(2020, 3, 1)))
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("60"), date(2020, 4, 10)))
    runner.catch_up()
    day_before = explain_member(ledger.db, "demo", "alice", date(2020, 4, 9))
    the_day = explain_member(ledger.db, "demo", "alice", date(2020, 4, 10))
    assert day_before == {
        "coop": "demo",
        "as_of": "2020-04-09",
        "name": "Member alice",
        "member_id": "alice",
        "college": "founders",
        "eligible": False,
        "reasons": [
            {"rule": "admitted", "ok": True, "detail": "admitted on 2020-02-01"},
            {"rule": "not_left", "ok": True, "detail": "a member on that date"},
            {"rule": "fee_paid", "ok": False, "detail": "2020 fee: 40.00 of 100.00 EUR paid by 2020-04-09"},
        ],
    }
    assert the_day["eligible"] is True
    assert the_day["reasons"][2] == {
        "rule": "fee_paid",
        "ok": True,
        "detail": "2020 fee: 100.00 of 100.00 EUR paid by 2020-04-10",
    }
    assert vote_weights(weights(ledger, runner, "demo", date(2020, 4, 9))) == {}
    assert vote_weights(weights(ledger, runner, "demo", date(2020, 4, 10))) == {"alice": "100"}


def test_explain_lists_every_failing_reason(ledger, runner):
    ok(ledger, found_scic())
    join(ledger, "scic", "fred", "beneficiaries", pay=Decimal("30"), shares=1)
    ok(ledger, SetVotingPolicy("scic", date(2020, 6, 1), min_shares=3))
    ok(ledger, ResignMember("scic", "fred", date(2020, 6, 15)))
    runner.catch_up()
    report = explain_member(ledger.db, "scic", "fred", VOTE_DAY)
    assert report["eligible"] is False and report["college"] == "beneficiaries"
    assert [(r["rule"], r["ok"], r["detail"]) for r in report["reasons"]] == [
        ("admitted", True, "admitted on 2020-02-01"),
        ("not_left", False, "resigned on 2020-06-15"),
        ("fee_paid", False, "2020 fee: 30.00 of 100.00 EUR paid by 2020-06-30"),
        ("min_shares", False, "holds 1 share(s), the statutes ask for 3"),
    ]


def test_explain_a_member_before_admission_and_an_unknown_member(ledger, runner):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "late", "users", on=date(2020, 9, 1), paid_on=date(2020, 9, 1))
    runner.catch_up()
    early = explain_member(ledger.db, "demo", "late", VOTE_DAY)
    assert early["eligible"] is False and early["college"] is None
    assert early["reasons"][0] == {"rule": "admitted", "ok": False, "detail": "not admitted until 2020-09-01"}
    write_side = member_eligibility(ledger.cooperative("demo"), "late", VOTE_DAY)
    assert early["reasons"] == write_side.reasons  # same rules both sides, every reason
    unknown = explain_member(ledger.db, "demo", "ghost", VOTE_DAY)
    assert unknown["eligible"] is False and unknown["reasons"] == [
        {"rule": "admitted", "ok": False, "detail": "not a member of demo on 2020-06-30"}
    ]
    assert explain_member(ledger.db, "demo", "late", date(2019, 1, 1)) is None  # not founded yet


# ---------------------------------------------------------------- tally


def test_the_54_percent_tally_with_real_members_and_votes(ledger, runner):
    general_assembly(ledger)
    # A member who owes part of the fee tries to vote: refused, and not counted.
    join(ledger, "demo", "owes", "partners", pay=Decimal("50"))
    refusal = ledger.execute(CastVote("demo", "R1", "owes", "for"), "vote-owes")
    assert (refusal.error.field, refusal.error.rule) == ("member_id", "eligible_voter")
    runner.catch_up()
    report = resolution_tally(ledger.db, "demo", "R1")
    # founders 3/5 x 40 = 24, users 1 x 20 = 20, partners 0 x 20 = 0, staff 1/2 x 20 = 10: 54%.
    assert (report["result"], report["result_percent"], report["adopted"]) == ("27/50", "54.00", True)
    assert (report["threshold"], report["strict"], report["assembly"], report["vote_date"]) == (
        "1/2",
        True,
        "ordinary",
        "2020-06-30",
    )
    assert [
        (c["code"], c["for"], c["against"], c["abstain"], c["blank"], c["share_for"], c["weight_used"], c["contribution"])
        for c in report["colleges"]
    ] == [
        ("founders", 3, 2, 0, 0, "3/5", "40", "6/25"),
        ("users", 2, 0, 0, 0, "1", "20", "1/5"),
        ("partners", 0, 2, 0, 0, "0", "20", "0"),
        ("staff", 1, 1, 1, 1, "1/2", "20", "1/10"),
    ]
    assert report["carried_by"] == ["founders", "users"]
    assert resolution_tally(ledger.db, "demo", "nope") is None


@pytest.mark.parametrize(
    ("assembly", "threshold", "expected_threshold", "adopted"),
    [
        ("extraordinary", None, "2/3", False),  # 54% < 2/3
        ("ordinary", "27/50", "27/50", True),  # the statutes' own majority, reached exactly (at or above)
        ("extraordinary", "11/20", "11/20", False),  # 55%
    ],
)
def test_the_54_percent_tally_under_other_majorities(ledger, runner, assembly, threshold, expected_threshold, adopted):
    general_assembly(ledger, assembly=assembly, threshold=threshold)
    runner.catch_up()
    report = resolution_tally(ledger.db, "demo", "R1")
    assert report["result"] == "27/50" and report["threshold"] == expected_threshold
    assert report["strict"] is False and report["adopted"] is adopted


def test_a_tally_where_a_college_with_voters_stays_silent(ledger, runner):
    ok(ledger, found_association("demo"))
    for i in range(1, 6):
        join(ledger, "demo", f"f{i}", "founders")
    join(ledger, "demo", "u1", "users")
    join(ledger, "demo", "p1", "partners")
    join(ledger, "demo", "s1", "staff")
    ok(ledger, RecordResolution("demo", "R1", "Budget", "ordinary", VOTE_DAY))
    for member_id, choice in [
        ("f1", "for"),
        ("f2", "for"),
        ("f3", "for"),
        ("f4", "against"),
        ("f5", "against"),
        ("u1", "for"),
        ("p1", "against"),
        ("s1", "abstain"),
    ]:
        ok(ledger, CastVote("demo", "R1", member_id, choice))
    runner.catch_up()
    report = resolution_tally(ledger.db, "demo", "R1")
    # staff cast nothing: 40/80, 20/80, 20/80 -> 50 x 3/5 + 25 x 1 + 25 x 0 = 30 + 25 = 55%.
    assert report["result"] == "11/20" and report["adopted"] is True
    assert [c["weight_used"] for c in report["colleges"]] == ["50", "25", "25", "0"]


def test_a_tally_uses_the_statutes_of_its_vote_date(ledger, runner):
    ok(ledger, found_scic())
    for member_id, college in [("e1", "employees"), ("b1", "beneficiaries"), ("s1", "supporters")]:
        join(ledger, "scic", member_id, college)
    ok(ledger, RecordResolution("scic", "before", "Avant l'AGE", "ordinary", date(2020, 6, 30)))
    ok(ledger, RecordResolution("scic", "after", "Après l'AGE", "ordinary", date(2020, 7, 1)))
    ok(
        ledger,
        AmendStatutes(
            "scic",
            date(2020, 7, 1),
            [CollegeSpec("employees", "S", "50"), CollegeSpec("beneficiaries", "B", "30"), CollegeSpec("supporters", "O", "20")],
            "AGE",
        ),
    )
    for resolution in ("before", "after"):
        ok(ledger, CastVote("scic", resolution, "e1", "for"))
        ok(ledger, CastVote("scic", resolution, "b1", "against"))
        ok(ledger, CastVote("scic", resolution, "s1", "against"))
    runner.catch_up()
    # Before: 100/3 for, 200/3 against -> 1/3. After: 50 for, 30 + 20 against -> exactly 1/2: not > 1/2.
    before, after = resolution_tally(ledger.db, "scic", "before"), resolution_tally(ledger.db, "scic", "after")
    assert (before["result"], before["adopted"]) == ("1/3", False)
    assert (after["result"], after["adopted"]) == ("1/2", False)


# ---------------------------------------------------------------- rebuild


def governance_rows(ledger) -> dict[str, list[tuple[Any, ...]]]:
    with ledger.db.read() as tx:
        return {t: sorted(tx.execute(f"SELECT * FROM {t}"), key=repr) for t in GovernanceProjection.tables}  # noqa: S608


def test_the_governance_projection_rebuilt_from_zero_equals_the_incremental_one(ledger, runner):
    def step(command: Any) -> None:
        ok(ledger, command)
        runner.catch_up()  # one command per batch

    step(found_scic())
    for member_id, college in [("e1", "employees"), ("e2", "employees"), ("b1", "beneficiaries"), ("s1", "supporters")]:
        step(admit("scic", member_id, college, JOINED))
        step(SubscribeShares("scic", member_id, 2, JOINED))  # entries 1, 3, 5, 7
        step(CallFee("scic", member_id, 2020, JOINED))
    step(PayFee("scic", "e1", 2020, FEE, PAID))  # entry 9
    step(PayFee("scic", "e2", 2020, Decimal("30"), PAID))  # 10
    step(PayFee("scic", "e2", 2020, Decimal("70"), date(2020, 3, 5)))  # 11
    step(PayFee("scic", "b1", 2020, FEE, PAID))  # 12
    step(PayFee("scic", "s1", 2020, FEE, date(2020, 2, 20)))  # 13: back-dated
    step(ReverseEntry("scic", 12, "cheque bounced", date(2020, 4, 1)))
    step(RedeemShares("scic", "e2", 1, date(2020, 4, 2)))
    step(ReverseEntry("scic", 1, "subscription cancelled", date(2020, 4, 3)))  # e1's shares
    step(SetVotingPolicy("scic", date(2020, 5, 1), min_shares=1, empty_college_policy="unassigned"))
    step(TransferMember("scic", "e2", "beneficiaries", date(2020, 5, 2)))
    step(RecordResolution("scic", "R1", "Comptes", "extraordinary", VOTE_DAY, "3/5"))
    step(CastVote("scic", "R1", "e2", "for"))
    step(CastVote("scic", "R1", "s1", "against"))
    step(ResignMember("scic", "s1", date(2020, 9, 1)))
    step(
        AmendStatutes(
            "scic",
            date(2021, 1, 1),
            [CollegeSpec("employees", "S", "50"), CollegeSpec("beneficiaries", "B", "25"), CollegeSpec("supporters", "O", "25")],
            "AGE",
        )
    )
    step(ExcludeMember("scic", "e1", date(2021, 2, 1), "absent"))
    incremental = governance_rows(ledger)
    assert len(incremental["governance_statutes"]) == 2 and len(incremental["governance_policies"]) == 2
    assert len(incremental["governance_fee_moves"]) == 4 + 5 + 1 and len(incremental["votes"]) == 2
    answers = (weights_as_of(ledger.db, "scic", VOTE_DAY), resolution_tally(ledger.db, "scic", "R1"))
    # On 2020-06-30: e1 holds 0 shares (subscription reversed), b1's payment bounced: only e2 (now
    # in beneficiaries, paid, 1 share) and s1 vote; unassigned: 100/3 each, employees' 100/3 left.
    assert vote_weights(answers[0]) == {"e2": "100/3", "s1": "100/3"} and answers[0]["unassigned_weight"] == "100/3"
    # Tally: 100/3 for, 100/3 against, employees' 100/3 not used: 1/3 < 3/5.
    assert (answers[1]["result"], answers[1]["adopted"]) == ("1/3", False)

    runner.rebuild()
    assert governance_rows(ledger) == incremental
    assert (weights_as_of(ledger.db, "scic", VOTE_DAY), resolution_tally(ledger.db, "scic", "R1")) == answers


# ---------------------------------------------------------------- command line


def invoke(store_url: str, *args: str, env: bool = False) -> Any:
    runner = CliRunner()
    argv = list(args) if env else ["--database-url", store_url, *args]
    result = runner.invoke(cli, argv, env={"COOPLEDGER_DATABASE_URL": store_url} if env else None, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout) if "--json" in args else result.stdout


def test_cli_governance_as_of_a_date(ledger, store_url):
    cluster(ledger)
    (report,) = invoke(store_url, "governance", "--coop", "cluster", "--as-of", "2020-06-30", "--json")
    assert colleges(report)["media"] == ("40", 5, 5, "50", "10")
    assert colleges(report)["companies"][3:] == ("25", "25/3")
    assert colleges(report)["research"][2:] == (0, "0", None)
    assert colleges(report)["public"][3:] == ("25", "25/2")
    assert report["voters_total_weight"] == "100" and len(report["voters"]) == 10
    (early,) = invoke(store_url, "governance", "--coop", "cluster", "--as-of", "2020-02-29", "--json", env=True)
    assert early["voters"] == [] and early["unassigned_weight"] == "100"
    text = invoke(store_url, "--lang", "en", "governance", "--coop", "cluster", "--as-of", "2020-06-30")
    assert "media" in text and "research" in text


def test_cli_governance_shows_the_scic_flag(ledger, store_url):
    ok(ledger, found_weighted_scic())
    join(ledger, "scic4", "a1", "a")
    join(ledger, "scic4", "b1", "b")
    (report,) = invoke(store_url, "governance", "--coop", "scic4", "--as-of", "2020-06-30", "--json")
    assert [f["college"] for f in report["flags"]] == ["a"] and vote_weights(report) == {"a1": "200/3", "b1": "100/3"}
    assert "scic_weight_bounds" in invoke(store_url, "governance", "--coop", "scic4", "--as-of", "2020-06-30")


def test_cli_explain_member(ledger, store_url):
    cluster(ledger)
    report = invoke(store_url, "explain-member", "public-3", "--coop", "cluster", "--as-of", "2020-06-30", "--json")
    assert (report["member_id"], report["college"], report["eligible"]) == ("public-3", "public", False)
    assert report["reasons"][2] == {"rule": "fee_paid", "ok": False, "detail": "2020 fee: 40.00 of 100.00 EUR paid by 2020-06-30"}
    eligible = invoke(store_url, "explain-member", "media-1", "--coop", "cluster", "--as-of", "2020-03-01", "--json", env=True)
    assert eligible["eligible"] is True and all(r["ok"] for r in eligible["reasons"])
    text = invoke(store_url, "explain-member", "public-3", "--coop", "cluster", "--as-of", "2020-06-30").replace("\xa0", " ")
    assert (
        "ne peut pas voter" in text and "cotisation payée : cotisation 2020 : 40,00 € payés sur 100,00 € au 30 juin 2020" in text
    )
    english = invoke(store_url, "explain-member", "public-3", "--coop", "cluster", "--as-of", "2020-06-30", "--lang", "en")
    assert "not eligible" in english and "fee paid: 2020 fee: €40.00 of €100.00 paid by 30 Jun 2020" in english


def test_cli_tally(ledger, store_url):
    general_assembly(ledger)
    report = invoke(store_url, "tally", "R1", "--coop", "demo", "--json")
    assert (report["result"], report["result_percent"], report["adopted"]) == ("27/50", "54.00", True)
    assert [c["share_for"] for c in report["colleges"]] == ["3/5", "1", "0", "1/2"]
    french = invoke(store_url, "tally", "R1", "--coop", "demo").replace("\xa0", " ")
    assert (
        "résultat 54,00 % > 50,00 % requis : ADOPTÉE" in french and "part pour" in french and "%" not in french.replace(" %", "")
    )
    english = invoke(store_url, "tally", "R1", "--coop", "demo", "--lang", "en")
    assert "result 54.00% > 50.00% needed: ADOPTED" in english and "share for" in english


def test_cli_refuses_unknown_resolution_and_bad_date(ledger, store_url):
    ok(ledger, found_association("demo"))
    runner = CliRunner()
    missing = runner.invoke(cli, ["--database-url", store_url, "tally", "R9", "--coop", "demo", "--json"])
    assert missing.exit_code == 1 and "no resolution 'R9'" in missing.output and "known_resolution" in missing.output
    bad = runner.invoke(cli, ["--database-url", store_url, "governance", "--coop", "demo", "--as-of", "30/06/2020"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_cli_records_governance_commands_from_json_lines(ledger, store_url, tmp_path):
    ok(ledger, found_scic())
    for member_id, college in [("e1", "employees"), ("b1", "beneficiaries"), ("s1", "supporters")]:
        join(ledger, "scic", member_id, college)
    lines = [
        {
            "command": "AmendStatutes",
            "idempotency_key": "am-1",
            "coop": "scic",
            "effective_date": "2020-06-01",
            "reason": "AGE",
            "colleges": [
                {"code": "employees", "name": "S", "weight": "50"},
                {"code": "beneficiaries", "name": "B", "weight": "25"},
                {"code": "supporters", "name": "O", "weight": "25"},
            ],
        },
        {
            "command": "RecordResolution",
            "idempotency_key": "r-1",
            "coop": "scic",
            "resolution_id": "R1",
            "title": "Budget",
            "assembly": "ordinary",
            "vote_date": "2020-06-30",
        },
        {
            "command": "CastVote",
            "idempotency_key": "v-1",
            "coop": "scic",
            "resolution_id": "R1",
            "member_id": "e1",
            "choice": "for",
        },
        {
            "command": "CastVote",
            "idempotency_key": "v-2",
            "coop": "scic",
            "resolution_id": "R1",
            "member_id": "b1",
            "choice": "against",
        },
        {
            "command": "CastVote",
            "idempotency_key": "v-3",
            "coop": "scic",
            "resolution_id": "R1",
            "member_id": "e1",
            "choice": "against",
        },
    ]
    path = tmp_path / "ga.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines))
    result = CliRunner().invoke(cli, ["--database-url", store_url, "record", str(path), "--json"])
    assert result.exit_code == 1  # the second vote of e1 is refused
    reports = orjson.loads(result.stdout)
    assert [r["accepted"] for r in reports] == [True, True, True, True, False]
    assert reports[4]["error"]["rule"] == "one_vote"
    report = invoke(store_url, "tally", "R1", "--coop", "scic", "--json")
    # 50 for, 25 against, supporters silent -> redistributed: 50/75 = 2/3 of the votes for.
    assert (report["result"], report["adopted"]) == ("2/3", True)


def test_the_fee_that_counts_is_the_fiscal_years_holding_the_day(ledger, runner):
    """Fiscal years from July: on 2021-03-01 the fee of fiscal year 2020 counts (paid by alice, not
    by bob); on 2021-07-01 that of 2021 (paid by neither)."""
    ok(ledger, replace(found_association("july", founded_on=date(2020, 7, 1)), fiscal_year_start_month=7))
    for member in ("alice", "bob"):
        ok(ledger, admit("july", member, "founders", date(2020, 7, 1)))
        ok(ledger, CallFee("july", member, 2020, date(2020, 7, 1)))
    ok(ledger, PayFee("july", "alice", 2020, Decimal("100"), date(2020, 8, 1)))
    march = weights(ledger, runner, "july", date(2021, 3, 1))
    assert march["fee_year"] == 2020
    assert sorted(vote_weights(march)) == ["alice"]
    july = weights(ledger, runner, "july", date(2021, 7, 1))
    assert july["fee_year"] == 2021
    assert vote_weights(july) == {}  # the fee of 2021 is paid by neither
