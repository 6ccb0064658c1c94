"""Governance rules as pure functions (no store): eligibility with every reason, college weights
with empty colleges redistributed or left unassigned, weighted tallies, and the deciders run on
an in-memory aggregate. Every expected figure is computed by hand in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from domain import fees, governance, membership
from domain.accounts import LegalForm
from domain.cooperative import CollegeSpec, Cooperative, FeeBracket, FoundCooperative, found_cooperative
from domain.errors import DomainError
from domain.events import Meta
from domain.governance import AmendStatutes, CastVote, RecordResolution, member_eligibility
from domain.voting import Eligibility, college_weights, eligibility, tally

META = Meta(actor="test", idempotency_key="k")
F = Fraction
REDISTRIBUTE = {"require_fee_paid": True, "min_shares": 0, "empty_college_policy": "redistribute"}
UNASSIGNED = {**REDISTRIBUTE, "empty_college_policy": "unassigned"}
DAY = date(2020, 6, 30)


def statutes(*weights: tuple[str, str], weighted: bool = True) -> dict[str, Any]:
    return {
        "effective_date": date(2020, 1, 1),
        "weighted": weighted,
        "colleges": [{"code": code, "name": code.title(), "weight": w} for code, w in weights],
    }


CLUSTER = statutes(("media", "40"), ("companies", "20"), ("research", "20"), ("public", "20"))
SCIC_40_20_20_20 = statutes(("a", "40"), ("b", "20"), ("c", "20"), ("d", "20"))


def rows(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        r["code"]: (r["statutory_weight"], r["members"], r["eligible_members"], r["effective_weight"], r["member_weight"])
        for r in report["colleges"]
    }


def verdict(**overrides: Any) -> Eligibility:
    args: dict[str, Any] = dict(
        member_id="m",
        college="media",
        admitted_on=date(2020, 2, 1),
        left_on=None,
        left_as=None,
        fee_called_cents=100_00,
        fee_paid_cents=100_00,
        shares=0,
        policy=REDISTRIBUTE,
        day=DAY,
        fee_year=2020,
    )
    args.update(overrides)
    return eligibility(**args)


# ---------------------------------------------------------------- eligibility


def test_an_eligible_member_passes_every_rule_in_order():
    e = verdict()
    assert e.eligible and e.college == "media"
    assert e.reasons == [
        {"rule": "admitted", "ok": True, "detail": "admitted on 2020-02-01"},
        {"rule": "not_left", "ok": True, "detail": "a member on that date"},
        {"rule": "fee_paid", "ok": True, "detail": "2020 fee: 100.00 of 100.00 EUR paid by 2020-06-30"},
    ]


def test_admitted_on_the_day_counts_the_day_before_does_not():
    assert verdict(admitted_on=DAY).reasons[0] == {"rule": "admitted", "ok": True, "detail": "admitted on 2020-06-30"}
    late = verdict(admitted_on=date(2020, 7, 1))
    assert not late.eligible
    assert late.reasons[0] == {"rule": "admitted", "ok": False, "detail": "not admitted until 2020-07-01"}


def test_a_member_who_left_on_the_day_no_longer_votes():
    assert verdict(left_on=date(2020, 7, 1), left_as="resigned").eligible  # still a member on the 30th
    gone = verdict(left_on=DAY, left_as="excluded")
    assert not gone.eligible and gone.reasons[1] == {"rule": "not_left", "ok": False, "detail": "excluded on 2020-06-30"}


@pytest.mark.parametrize(
    ("called", "paid", "ok", "detail"),
    [
        (0, 0, False, "no 2020 fee called by 2020-06-30"),
        (100_00, 99_99, False, "2020 fee: 99.99 of 100.00 EUR paid by 2020-06-30"),
        (100_00, 0, False, "2020 fee: 0.00 of 100.00 EUR paid by 2020-06-30"),
        (250_50, 250_50, True, "2020 fee: 250.50 of 250.50 EUR paid by 2020-06-30"),
    ],
)
def test_the_fee_must_be_fully_paid(called, paid, ok, detail):
    e = verdict(fee_called_cents=called, fee_paid_cents=paid)
    assert e.eligible is ok and e.reasons[2] == {"rule": "fee_paid", "ok": ok, "detail": detail}


def test_the_fee_rule_can_be_turned_off():
    e = verdict(fee_called_cents=0, fee_paid_cents=0, policy={**REDISTRIBUTE, "require_fee_paid": False})
    assert e.eligible and [r["rule"] for r in e.reasons] == ["admitted", "not_left"]


def test_minimum_capital_shares():
    policy = {**REDISTRIBUTE, "min_shares": 3}
    short = verdict(shares=2, policy=policy)
    assert not short.eligible
    assert short.reasons[3] == {"rule": "min_shares", "ok": False, "detail": "holds 2 share(s), the statutes ask for 3"}
    assert verdict(shares=3, policy=policy).eligible


def test_every_failing_reason_is_listed():
    e = verdict(admitted_on=date(2020, 7, 1), fee_called_cents=0, shares=0, policy={**REDISTRIBUTE, "min_shares": 1})
    assert [(r["rule"], r["ok"]) for r in e.reasons] == [
        ("admitted", False),
        ("not_left", True),
        ("fee_paid", False),
        ("min_shares", False),
    ]
    assert e.as_dict()["eligible"] is False and e.as_dict()["member_id"] == "m"


# ---------------------------------------------------------------- college weights


def test_cluster_empty_research_college_is_redistributed_in_proportion():
    # Eligible 5, 3, 0, 2: research is empty; 40 + 20 + 20 = 80 remain, so media gets 40/80 of 100
    # = 50, companies and public 20/80 of 100 = 25 each; per member 50/5 = 10, 25/3, 25/2.
    report = college_weights(
        statutes=CLUSTER,
        policy=REDISTRIBUTE,
        legal_form=LegalForm.ASSOCIATION,
        members={"media": 5, "companies": 3, "research": 1, "public": 3},
        eligible={"media": 5, "companies": 3, "public": 2},
    )
    assert rows(report) == {
        "media": (F(40), 5, 5, F(50), F(10)),
        "companies": (F(20), 3, 3, F(25), F(25, 3)),
        "research": (F(20), 1, 0, F(0), None),
        "public": (F(20), 3, 2, F(25), F(25, 2)),
    }
    assert report["unassigned_weight"] == 0 and report["flags"] == []
    assert 5 * F(10) + 3 * F(25, 3) + 2 * F(25, 2) == 100


def test_cluster_empty_research_college_left_unassigned():
    # Unassigned: each non-empty college keeps its statutory weight; research's 20 is nobody's.
    # Per member: 40/5 = 8, 20/3, 20/2 = 10.
    report = college_weights(
        statutes=CLUSTER,
        policy=UNASSIGNED,
        legal_form=LegalForm.ASSOCIATION,
        members={"media": 5, "companies": 3, "public": 2},
        eligible={"media": 5, "companies": 3, "public": 2},
    )
    assert {code: (r[3], r[4]) for code, r in rows(report).items()} == {
        "media": (F(40), F(8)),
        "companies": (F(20), F(20, 3)),
        "research": (F(0), None),
        "public": (F(20), F(10)),
    }
    assert report["unassigned_weight"] == F(20) and report["empty_college_policy"] == "unassigned"


def test_no_eligible_member_anywhere_leaves_everything_unassigned():
    report = college_weights(
        statutes=CLUSTER, policy=REDISTRIBUTE, legal_form=LegalForm.ASSOCIATION, members={"media": 2}, eligible={}
    )
    assert report["unassigned_weight"] == 100
    assert all(r["effective_weight"] == 0 and r["member_weight"] is None for r in report["colleges"])


def test_scic_redistribution_past_fifty_percent_is_flagged():
    # docs/rules.md, Voting colleges (empty colleges): 40/20/20/20 with two 20% colleges empty: 40/60 of 100 = 200/3 (66.67%) and
    # 20/60 of 100 = 100/3 (33.33%). a breaks the 50% cap: flagged, not hidden nor capped.
    report = college_weights(
        statutes=SCIC_40_20_20_20,
        policy=REDISTRIBUTE,
        legal_form=LegalForm.SCIC,
        members={"a": 2, "b": 1},
        eligible={"a": 2, "b": 1},
    )
    assert {code: r[3] for code, r in rows(report).items()} == {"a": F(200, 3), "b": F(100, 3), "c": 0, "d": 0}
    assert rows(report)["a"][4] == F(100, 3)  # two members share 200/3
    assert [(f["college"], f["rule"]) for f in report["flags"]] == [("a", "scic_weight_bounds")]
    assert "66.67%" in report["flags"][0]["message"]


def test_only_the_colleges_pushed_out_of_bounds_are_flagged():
    # 50/40/10 with the 40% college empty: 50/60 of 100 = 250/3 (83.33%), 10/60 of 100 = 50/3
    # (16.67%). Only the top one is out of bounds.
    s = statutes(("a", "50"), ("b", "40"), ("c", "10"))
    report = college_weights(
        statutes=s, policy=REDISTRIBUTE, legal_form=LegalForm.SCIC, members={"a": 1, "c": 1}, eligible={"a": 1, "c": 1}
    )
    assert [f["college"] for f in report["flags"]] == ["a"]
    assert {code: r[3] for code, r in rows(report).items()} == {"a": F(250, 3), "b": 0, "c": F(50, 3)}


def test_same_shape_is_not_flagged_for_an_association_nor_when_left_unassigned():
    members = {"a": 2, "b": 1}
    assoc = college_weights(
        statutes=SCIC_40_20_20_20, policy=REDISTRIBUTE, legal_form=LegalForm.ASSOCIATION, members=members, eligible=members
    )
    assert assoc["flags"] == [] and rows(assoc)["a"][3] == F(200, 3)
    kept = college_weights(
        statutes=SCIC_40_20_20_20, policy=UNASSIGNED, legal_form=LegalForm.SCIC, members=members, eligible=members
    )
    assert kept["flags"] == [] and kept["unassigned_weight"] == 40


def test_weights_stay_exact_with_thirds():
    # Three equal colleges (100/3 each), 3, 7 and 0 eligible: 50 and 50; per member 50/3 and 50/7.
    s = statutes(("a", "100/3"), ("b", "100/3"), ("c", "100/3"), weighted=False)
    report = college_weights(
        statutes=s, policy=REDISTRIBUTE, legal_form=LegalForm.SCIC, members={"a": 3, "b": 7}, eligible={"a": 3, "b": 7}
    )
    assert [(r[3], r[4]) for r in rows(report).values()] == [(F(50), F(50, 3)), (F(50), F(50, 7)), (F(0), None)]
    assert 3 * F(50, 3) + 7 * F(50, 7) == 100 and report["weighted"] is False


# ---------------------------------------------------------------- tally


def weights_of(**effective: Any) -> dict[str, Any]:
    return {"colleges": [{"code": code, "effective_weight": F(w)} for code, w in effective.items()]}


def ballots(**by_college: str) -> list[tuple[str, str]]:
    """ "a"="ffa" means college a: for, for, against (f, a, s = abstain, b = blank)."""
    names = {"f": "for", "a": "against", "s": "abstain", "b": "blank"}
    return [(college, names[c]) for college, letters in by_college.items() for c in letters]


def test_the_hand_computed_54_percent_tally():
    # 40 x 60% + 20 x 100% + 20 x 0% + 20 x 50% = 24 + 20 + 0 + 10 = 54%: adopted (> 50%).
    result = tally(
        weights=weights_of(a=40, b=20, c=20, d=20),
        votes=ballots(a="fffaa", b="ff", c="aa", d="fasb"),
        threshold=F(1, 2),
        strict=True,
        policy=REDISTRIBUTE,
    )
    assert result["result"] == F(27, 50) and result["adopted"] is True
    assert [(r["code"], r["share_for"], r["contribution"]) for r in result["colleges"]] == [
        ("a", F(3, 5), F(6, 25)),
        ("b", F(1), F(1, 5)),
        ("c", F(0), F(0)),
        ("d", F(1, 2), F(1, 10)),
    ]
    d = result["colleges"][3]
    assert (d["for"], d["against"], d["abstain"], d["blank"], d["cast"]) == (1, 1, 1, 1, 2)
    assert result["carried_by"] == ["a", "b"]  # d at exactly 50% does not carry


@pytest.mark.parametrize(
    ("threshold", "strict", "adopted"),
    [
        (F(2, 3), False, False),  # extraordinary: 54% < 66.67%
        (F(27, 50), False, True),  # the statutes' own 54%: reached, at or above
        (F(27, 50), True, False),  # strictly above 54%: not reached
        (F(11, 20), False, False),  # 55%
    ],
)
def test_the_majority_decides(threshold, strict, adopted):
    result = tally(
        weights=weights_of(a=40, b=20, c=20, d=20),
        votes=ballots(a="fffaa", b="ff", c="aa", d="fa"),
        threshold=threshold,
        strict=strict,
        policy=REDISTRIBUTE,
    )
    assert result["adopted"] is adopted


def test_exactly_half_is_not_a_simple_majority():
    result = tally(
        weights=weights_of(a=50, b=50), votes=ballots(a="f", b="a"), threshold=F(1, 2), strict=True, policy=REDISTRIBUTE
    )
    assert result["result"] == F(1, 2) and result["adopted"] is False


def test_a_college_that_cast_no_vote_is_handled_like_an_empty_college():
    # d only abstains: redistribute 40/80, 20/80, 20/80 -> 50, 25, 25: 50 x 60% + 25 x 100% = 55%.
    votes = ballots(a="fffaa", b="ff", c="aa", d="ss")
    shared = tally(weights=weights_of(a=40, b=20, c=20, d=20), votes=votes, threshold=F(1, 2), strict=True, policy=REDISTRIBUTE)
    assert shared["result"] == F(11, 20) and [r["weight_used"] for r in shared["colleges"]] == [50, 25, 25, 0]
    # Unassigned: d's 20 stays out: 24 + 20 + 0 = 44%, rejected.
    left = tally(weights=weights_of(a=40, b=20, c=20, d=20), votes=votes, threshold=F(1, 2), strict=True, policy=UNASSIGNED)
    assert left["result"] == F(11, 25) and left["adopted"] is False


def test_nobody_voting_adopts_nothing():
    result = tally(weights=weights_of(a=50, b=50), votes=ballots(a="sb"), threshold=F(1, 2), strict=True, policy=REDISTRIBUTE)
    assert result["result"] == 0 and not result["adopted"] and result["carried_by"] == []


# ---------------------------------------------------------------- deciders on an in-memory aggregate


def found(cmd: FoundCooperative) -> Cooperative:
    return found_cooperative(None, cmd, META)


def run(coop: Cooperative, command: Any) -> None:
    for module in (membership, fees, governance):
        handler = module.FAMILY.commands.get(type(command))
        if handler is not None:
            handler.decide(coop, command, META)
            return
    raise AssertionError(f"no handler for {type(command).__name__}")


def refusal(coop: Cooperative, command: Any) -> DomainError:
    version = coop.version
    with pytest.raises(DomainError) as exc:
        run(coop, command)
    assert coop.version == version
    return exc.value


def scic(weights: tuple[str, ...] | None = ("40", "30", "30")) -> Cooperative:
    colleges = [CollegeSpec(c, c.upper(), w) for c, w in zip("abc", weights or (None,) * 3, strict=False)]
    return found(
        FoundCooperative(
            "s", "SCIC", "scic", date(2020, 1, 1), colleges, [FeeBracket(1, None, Decimal("100"))], share_value=Decimal("50")
        )
    )


def person(coop: Cooperative, member_id: str, college: str, day: date = date(2020, 2, 1), paid: bool = True) -> None:
    run(coop, membership.AdmitMember(coop.slug, member_id, member_id, "person", college, day))
    run(coop, fees.CallFee(coop.slug, member_id, day.year, day))
    if paid:
        run(coop, fees.PayFee(coop.slug, member_id, day.year, Decimal("100"), day))


@pytest.mark.parametrize(
    ("weights", "field", "rule"),
    [
        (("60", "20", "20"), "colleges[0].weight", "scic_weight_bounds"),
        (("50", "45", "5"), "colleges[2].weight", "scic_weight_bounds"),
        (("50", "30", "30"), "colleges", "weights_sum_100"),
        (("50", "30", None), "colleges", "weights_all_or_none"),
        (("50", "30", "x"), "colleges[2].weight", "fraction"),
    ],
)
def test_scic_amendments_out_of_bounds_are_refused(weights, field, rule):
    coop = scic()
    error = refusal(
        coop, AmendStatutes("s", date(2021, 1, 1), [CollegeSpec(c, c, w) for c, w in zip("abc", weights, strict=False)], "AGE")
    )
    assert (error.field, error.rule) == (field, rule)


def test_scic_bounds_are_inclusive():
    coop = scic()
    run(
        coop,
        AmendStatutes(
            "s", date(2021, 1, 1), [CollegeSpec("a", "A", "50"), CollegeSpec("b", "B", "40"), CollegeSpec("c", "C", "10")], "AGE"
        ),
    )
    assert [c["weight"] for c in coop.statutes_on(date(2021, 1, 1))["colleges"]] == ["50", "40", "10"]
    assert coop.statutes_on(date(2020, 12, 31))["colleges"][0]["weight"] == "40"


def test_abolishing_an_occupied_college_is_refused_in_memory():
    coop = scic()
    person(coop, "m", "c")
    error = refusal(coop, AmendStatutes("s", date(2021, 1, 1), [CollegeSpec(x, x) for x in "abd"], "AGE"))
    assert (error.field, error.rule) == ("colleges", "members_placed")
    run(coop, membership.TransferMember("s", "m", "a", date(2021, 1, 1)))
    run(coop, AmendStatutes("s", date(2021, 1, 1), [CollegeSpec(x, x) for x in "abd"], "AGE"))
    assert list(coop.colleges_on(date(2021, 1, 1))) == ["a", "b", "d"]


def test_write_side_eligibility_reads_the_dated_history():
    coop = scic(None)
    person(coop, "m", "a", paid=False)
    run(coop, fees.PayFee("s", "m", 2020, Decimal("100"), date(2020, 5, 5)))
    assert not member_eligibility(coop, "m", date(2020, 5, 4)).eligible
    assert member_eligibility(coop, "m", date(2020, 5, 5)).eligible
    run(coop, membership.ResignMember("s", "m", date(2020, 9, 1)))
    assert member_eligibility(coop, "m", date(2020, 8, 31)).eligible
    gone = member_eligibility(coop, "m", date(2020, 9, 1))
    assert not gone.eligible and gone.reasons[1]["detail"] == "resigned on 2020-09-01"


def test_votes_in_memory_carry_the_college_and_refuse_the_ineligible():
    coop = scic(None)
    person(coop, "ok", "a")
    person(coop, "owes", "b", paid=False)
    run(coop, RecordResolution("s", "R", "Comptes", "ordinary", date(2020, 6, 30)))
    run(coop, CastVote("s", "R", "ok", "for"))
    error = refusal(coop, CastVote("s", "R", "owes", "for"))
    assert (error.field, error.rule) == ("member_id", "eligible_voter")
    assert coop.resolutions["R"]["voters"] == {"ok": "a"}
    (vote,) = [e for e in coop.collect_events() if e.kind == "VoteCast"]
    assert (vote.college, vote.choice, vote.effective_date) == ("a", "for", date(2020, 6, 30))
