"""Governance on the write side, against SQLite and PostgreSQL (through the `ledger` fixture):
statutes amended over time, the versioned voting policy, resolutions and votes.

Fees come from the demo schedule (a person's fee is 100.00 EUR); a SCIC share is 50.00 EUR.
Founding is 2020-01-01; members join on 2020-02-01 and pay their 2020 fee on 2020-03-01 unless
a test says otherwise.

The helpers at the top build the cooperatives the projection and property tests use too.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from domain.cooperative import CollegeSpec, FoundCooperative
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.fees import CallFee, PayFee
from domain.governance import AmendStatutes, CastVote, RecordResolution, SetVotingPolicy, member_eligibility
from domain.membership import ExcludeMember, ResignMember, SubscribeShares, TransferMember
from ledger.service import CommandResult, Ledger
from tests.builders import admit, fee_schedule, found_association, found_scic, new_key, ok, stored_event_count

FOUNDED = date(2020, 1, 1)
JOINED = date(2020, 2, 1)
PAID = date(2020, 3, 1)
VOTE_DAY = date(2020, 6, 30)
FEE = Decimal("100")  # a person's fee in the demo schedule


# ---------------------------------------------------------------- builders (shared)


def join(
    ledger: Ledger,
    coop: str,
    member_id: str,
    college: str,
    *,
    on: date = JOINED,
    pay: Decimal | None = FEE,
    paid_on: date = PAID,
    call: bool = True,
    shares: int = 0,
    year: int = 2020,
) -> None:
    """Admits a person; calls their fee for `year` (unless call=False) and pays `pay` of it on
    `paid_on` (None: nothing paid); subscribes `shares` on admission (SCIC only)."""
    ok(ledger, admit(coop, member_id, college, on))
    if shares:
        ok(ledger, SubscribeShares(coop, member_id, shares, on))
    if call:
        ok(ledger, CallFee(coop, member_id, year, on))
        if pay is not None:
            ok(ledger, PayFee(coop, member_id, year, pay, paid_on))


def refused(ledger: Ledger, command: Any) -> CommandResult:
    """Executes a command that must be refused and checks it wrote nothing."""
    count, position = stored_event_count(ledger), ledger.position()
    result = ledger.execute(command, new_key())
    assert not result.accepted and result.error is not None, f"{type(command).__name__} was accepted"
    assert (stored_event_count(ledger), ledger.position()) == (count, position)
    return result


CLUSTER_COLLEGES = [
    CollegeSpec("media", "Médias", "40"),
    CollegeSpec("companies", "Entreprises associées", "20"),
    CollegeSpec("research", "Enseignement supérieur & recherche", "20"),
    CollegeSpec("public", "Acteurs publics", "20"),
]


def found_cluster(coop: str = "cluster", empty_college_policy: str = "redistribute") -> FoundCooperative:
    return FoundCooperative(
        coop=coop,
        name="Cluster numérique",
        legal_form="association",
        founded_on=FOUNDED,
        colleges=CLUSTER_COLLEGES,
        fee_schedule=fee_schedule(),
        empty_college_policy=empty_college_policy,
    )


def cluster(ledger: Ledger, empty_college_policy: str = "redistribute") -> None:
    """The cluster (association, 40/20/20/20): 5, 3, 0 and 2 eligible members in media, companies,
    research and public. research-1 owes its whole fee, public-3 paid 40 of 100: both members,
    neither eligible."""
    ok(ledger, found_cluster(empty_college_policy=empty_college_policy))
    for i in range(1, 6):
        join(ledger, "cluster", f"media-{i}", "media")
    for i in range(1, 4):
        join(ledger, "cluster", f"company-{i}", "companies")
    join(ledger, "cluster", "research-1", "research", pay=None)
    join(ledger, "cluster", "public-1", "public")
    join(ledger, "cluster", "public-2", "public")
    join(ledger, "cluster", "public-3", "public", pay=Decimal("40"))


def found_weighted_scic(
    coop: str = "scic4", weights: tuple[str, ...] = ("40", "20", "20", "20"), **extra: Any
) -> FoundCooperative:
    """A SCIC with colleges a, b, c, d... weighted as given."""
    return FoundCooperative(
        coop=coop,
        name="SCIC pondérée",
        legal_form="scic",
        founded_on=FOUNDED,
        colleges=[CollegeSpec(chr(ord("a") + i), f"Collège {chr(ord('A') + i)}", w) for i, w in enumerate(weights)],
        fee_schedule=fee_schedule(),
        siren="123456782",
        share_value=Decimal("50.00"),
        **extra,
    )


def general_assembly(ledger: Ledger, assembly: str = "ordinary", threshold: str | None = None, resolution_id: str = "R1") -> None:
    """The demo association (founders 40, users 20, partners 20, staff 20), every member paid up,
    and resolution R1 voted on 2020-06-30: founders 3 for / 2 against (60%), users 2 for (100%),
    partners 2 against (0%), staff 1 for / 1 against / 1 abstain / 1 blank (50%)."""
    ok(ledger, found_association("demo"))
    votes = {
        "founders": ["for", "for", "for", "against", "against"],
        "users": ["for", "for"],
        "partners": ["against", "against"],
        "staff": ["for", "against", "abstain", "blank"],
    }
    for college, choices in votes.items():
        for i in range(1, len(choices) + 1):
            join(ledger, "demo", f"{college}-{i}", college)
    join(ledger, "demo", "silent", "founders")  # eligible, does not vote: no effect on the shares
    ok(ledger, RecordResolution("demo", resolution_id, "Approbation des comptes", assembly, VOTE_DAY, threshold))
    for college, choices in votes.items():
        for i, choice in enumerate(choices, start=1):
            ok(ledger, CastVote("demo", resolution_id, f"{college}-{i}", choice))


# ---------------------------------------------------------------- statutes over time


def test_an_amendment_is_dated_and_every_version_is_kept(ledger):
    ok(ledger, found_scic())
    result = ok(
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
    assert result.events == ("StatutesAmended",) and result.journal_numbers == ()
    coop = ledger.cooperative("scic")
    assert [v["effective_date"] for v in coop.statutes] == [FOUNDED, date(2021, 1, 1)]
    before, after = coop.statutes_on(date(2020, 12, 31)), coop.statutes_on(date(2021, 1, 1))
    assert [c["weight"] for c in before["colleges"]] == ["100/3"] * 3 and before["weighted"] is False
    assert [c["weight"] for c in after["colleges"]] == ["50", "30", "20"] and after["weighted"] is True
    assert coop.statutes_on(date(2019, 12, 31)) is None  # before founding


@pytest.mark.parametrize(
    ("form", "weights", "field", "rule"),
    [
        ("scic", ("50", "50"), "colleges", "scic_min_colleges"),
        ("scic", ("55", "25", "20"), "colleges[0].weight", "scic_weight_bounds"),
        ("scic", ("45", "46", "9"), "colleges[2].weight", "scic_weight_bounds"),
        ("scic", ("40", "30", "20"), "colleges", "weights_sum_100"),
        ("association", ("40", "30", "20"), "colleges", "weights_sum_100"),
        ("association", ("100", "0"), "colleges[1].weight", "positive"),
    ],
)
def test_amendments_breaking_the_rules_of_the_legal_form_are_refused(ledger, form, weights, field, rule):
    ok(ledger, found_weighted_scic("c", ("40", "30", "30")) if form == "scic" else found_cluster("c"))
    before = ledger.cooperative("c").statutes
    colleges = [CollegeSpec(code, code.upper(), w) for code, w in zip(("media", "companies", "research"), weights, strict=False)]
    result = refused(ledger, AmendStatutes("c", date(2021, 1, 1), colleges, "AGE"))
    assert isinstance(result.error, InvalidCommand)
    assert (result.error.field, result.error.rule) == (field, rule)
    assert ledger.cooperative("c").statutes == before


def test_an_association_is_free_of_the_scic_bounds(ledger):
    ok(ledger, found_cluster())
    ok(
        ledger,
        AmendStatutes(
            "cluster",
            date(2021, 1, 1),
            [
                CollegeSpec("media", "Médias", "90"),
                CollegeSpec("companies", "Entreprises", "5"),
                CollegeSpec("research", "Recherche", "5"),
            ],
            "AGE",
        ),
    )  # 90% and 5%: refused for a SCIC
    ok(ledger, AmendStatutes("cluster", date(2022, 1, 1), [CollegeSpec("media", "Médias")], "AGE"))  # one college
    coop = ledger.cooperative("cluster")
    assert [[c["weight"] for c in v["colleges"]] for v in coop.statutes] == [["40", "20", "20", "20"], ["90", "5", "5"], ["100"]]


def test_a_scic_amended_without_weights_gets_equal_colleges(ledger):
    ok(ledger, found_weighted_scic("s", ("40", "30", "30")))
    ok(ledger, AmendStatutes("s", date(2021, 1, 1), [CollegeSpec(c, c.upper()) for c in "abcd"], "AGE"))
    latest = ledger.cooperative("s").statutes[-1]
    assert [Fraction(c["weight"]) for c in latest["colleges"]] == [Fraction(25)] * 4 and latest["weighted"] is False


def test_an_amendment_cannot_go_back_before_the_statutes_in_force(ledger):
    ok(ledger, found_scic())
    colleges = [
        CollegeSpec("employees", "S", "40"),
        CollegeSpec("beneficiaries", "B", "30"),
        CollegeSpec("supporters", "O", "30"),
    ]
    ok(ledger, AmendStatutes("scic", date(2021, 1, 1), colleges, "AGE 1"))
    early = refused(ledger, AmendStatutes("scic", date(2020, 12, 31), colleges, "AGE 0"))
    assert (early.error.field, early.error.rule) == ("effective_date", "not_before")
    ok(ledger, AmendStatutes("scic", date(2021, 1, 1), colleges, "same day: the later one is in force"))
    before_founding = refused(ledger, AmendStatutes("scic", date(2019, 12, 31), colleges, "AGE"))
    assert (before_founding.error.field, before_founding.error.rule) == ("effective_date", "not_before_founding")


def test_abolishing_a_college_that_still_has_members_is_refused(ledger):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "sam", "staff")
    join(ledger, "demo", "uma", "users")
    without_staff = [CollegeSpec("founders", "F", "40"), CollegeSpec("users", "U", "30"), CollegeSpec("partners", "P", "30")]
    result = refused(ledger, AmendStatutes("demo", date(2021, 1, 1), without_staff, "AGE"))
    assert (result.error.field, result.error.rule) == ("colleges", "members_placed")
    assert "sam" in result.error.message and "uma" not in result.error.message
    # A resignation dated after the amendment does not help: sam still sits in staff on that day.
    ok(ledger, ResignMember("demo", "sam", date(2021, 3, 1)))
    assert refused(ledger, AmendStatutes("demo", date(2021, 1, 1), without_staff, "AGE")).error.rule == "members_placed"
    # From the day after the resignation on, staff is empty: it may go.
    ok(ledger, AmendStatutes("demo", date(2021, 3, 1), without_staff, "AGE"))


def test_a_college_can_go_once_its_members_are_transferred_out(ledger):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "sam", "staff")
    ok(ledger, TransferMember("demo", "sam", "users", date(2021, 1, 1)))
    without_staff = [CollegeSpec("founders", "F", "40"), CollegeSpec("users", "U", "30"), CollegeSpec("partners", "P", "30")]
    ok(ledger, AmendStatutes("demo", date(2021, 1, 1), without_staff, "AGE"))
    coop = ledger.cooperative("demo")
    assert list(coop.colleges_on(date(2020, 12, 31))) == ["founders", "users", "partners", "staff"]
    assert list(coop.colleges_on(date(2021, 1, 1))) == ["founders", "users", "partners"]


def test_a_member_admitted_later_into_the_college_strands_the_amendment(ledger):
    ok(ledger, found_association("demo"))
    ok(ledger, admit("demo", "late", "staff", date(2021, 6, 1)))  # joins after the amendment's date
    without_staff = [CollegeSpec("founders", "F", "40"), CollegeSpec("users", "U", "30"), CollegeSpec("partners", "P", "30")]
    result = refused(ledger, AmendStatutes("demo", date(2021, 1, 1), without_staff, "AGE"))
    assert (result.error.field, result.error.rule) == ("colleges", "members_placed")


def test_admissions_and_transfers_into_a_college_abolished_later_are_refused(ledger):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "uma", "users")
    without_staff = [CollegeSpec("founders", "F", "40"), CollegeSpec("users", "U", "30"), CollegeSpec("partners", "P", "30")]
    ok(ledger, AmendStatutes("demo", date(2021, 1, 1), without_staff, "AGE"))
    # staff exists on 2020-06-01, but a member placed there would be stranded on 2021-01-01.
    late_admission = refused(ledger, admit("demo", "ned", "staff", date(2020, 6, 1)))
    assert isinstance(late_admission.error, NotFound)
    assert (late_admission.error.field, late_admission.error.rule) == ("college", "known_college")
    transfer = refused(ledger, TransferMember("demo", "uma", "staff", date(2020, 6, 1)))
    assert (transfer.error.field, transfer.error.rule) == ("college", "known_college")
    after = refused(ledger, admit("demo", "ned", "staff", date(2021, 1, 1)))
    assert after.error.rule == "known_college"
    ok(ledger, admit("demo", "ned", "users", date(2020, 6, 1)))


def test_a_college_where_votes_were_cast_after_the_amendment_date_cannot_be_abolished(ledger):
    """A vote is recorded in the voter's college. A transfer dated on or before the vote would
    change the college that vote counts under: refused. Abolishing the college from a date before
    the vote is refused too (the voter still sits there); after the vote, once emptied, it may go."""
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "sam", "staff", year=2021, on=date(2020, 12, 1), paid_on=date(2020, 12, 1))
    ok(ledger, RecordResolution("demo", "R1", "Budget", "ordinary", date(2021, 6, 1)))
    assert ok(ledger, CastVote("demo", "R1", "sam", "for")).events == ("VoteCast",)
    for back_dated in (
        TransferMember("demo", "sam", "users", date(2021, 1, 1)),
        ResignMember("demo", "sam", date(2021, 6, 1)),
        ExcludeMember("demo", "sam", date(2021, 3, 1), "faute grave"),
    ):
        result = refused(ledger, back_dated)
        assert (result.error.field, result.error.rule) == ("effective_date", "after_votes_cast")
    without_staff = [CollegeSpec("founders", "F", "40"), CollegeSpec("users", "U", "30"), CollegeSpec("partners", "P", "30")]
    result = refused(ledger, AmendStatutes("demo", date(2021, 1, 1), without_staff, "AGE"))
    assert result.error.field == "colleges" and result.error.rule in ("members_placed", "votes_cast")
    ok(ledger, TransferMember("demo", "sam", "users", date(2021, 6, 2)))
    ok(ledger, AmendStatutes("demo", date(2021, 6, 2), without_staff, "AGE after the vote"))


# ---------------------------------------------------------------- voting policy, versioned


def test_the_voting_policy_is_versioned_by_date(ledger):
    ok(ledger, found_scic())
    ok(ledger, SetVotingPolicy("scic", date(2020, 6, 1), require_fee_paid=False, min_shares=2, empty_college_policy="unassigned"))
    coop = ledger.cooperative("scic")
    assert coop.policy_on(date(2020, 5, 31)) == {
        "effective_date": FOUNDED,
        "require_fee_paid": True,
        "min_shares": 0,
        "empty_college_policy": "redistribute",
    }
    assert coop.policy_on(date(2020, 6, 1)) == {
        "effective_date": date(2020, 6, 1),
        "require_fee_paid": False,
        "min_shares": 2,
        "empty_college_policy": "unassigned",
    }
    early = refused(ledger, SetVotingPolicy("scic", date(2020, 5, 1)))
    assert (early.error.field, early.error.rule) == ("effective_date", "not_before")


@pytest.mark.parametrize(
    ("command", "field", "rule"),
    [
        (SetVotingPolicy("demo", date(2020, 6, 1), min_shares=1), "min_shares", "no_capital"),
        (SetVotingPolicy("demo", date(2020, 6, 1), empty_college_policy="share"), "empty_college_policy", "known_policy"),
        (SetVotingPolicy("demo", date(2020, 6, 1), require_fee_paid="yes"), "require_fee_paid", "boolean"),  # type: ignore[arg-type]
        (SetVotingPolicy("demo", date(2020, 6, 1), min_shares=-1), "min_shares", "range"),
    ],
)
def test_invalid_voting_policies_are_refused(ledger, command, field, rule):
    ok(ledger, found_association("demo"))
    result = refused(ledger, command)
    assert (result.error.field, result.error.rule) == (field, rule)


def test_eligibility_follows_each_rule_of_the_policy_in_force(ledger):
    ok(ledger, found_scic())
    join(ledger, "scic", "emma", "employees", shares=1)  # paid up, 1 share
    join(ledger, "scic", "fred", "beneficiaries", pay=None, shares=3)  # owes 100.00
    ok(ledger, SetVotingPolicy("scic", date(2020, 6, 1), min_shares=2))
    ok(ledger, SetVotingPolicy("scic", date(2020, 9, 1), require_fee_paid=False, min_shares=2))
    ok(ledger, SubscribeShares("scic", "emma", 1, date(2020, 7, 1)))

    def verdict(member_id: str, day: date) -> tuple[bool, dict[str, bool]]:
        e = member_eligibility(ledger.cooperative("scic"), member_id, day)
        return e.eligible, {r["rule"]: r["ok"] for r in e.reasons}

    assert verdict("emma", date(2020, 5, 31)) == (True, {"admitted": True, "not_left": True, "fee_paid": True})
    assert verdict("emma", date(2020, 6, 1)) == (
        False,
        {"admitted": True, "not_left": True, "fee_paid": True, "min_shares": False},
    )
    assert verdict("emma", date(2020, 7, 1)) == (True, {"admitted": True, "not_left": True, "fee_paid": True, "min_shares": True})
    assert verdict("fred", date(2020, 8, 31)) == (
        False,
        {"admitted": True, "not_left": True, "fee_paid": False, "min_shares": True},
    )
    assert verdict("fred", date(2020, 9, 1)) == (True, {"admitted": True, "not_left": True, "min_shares": True})
    assert verdict("fred", date(2020, 1, 31)) == (False, {"admitted": False, "not_left": True, "fee_paid": False})


def test_a_member_becomes_eligible_the_day_their_fee_is_fully_paid(ledger):
    ok(ledger, found_association("demo"))
    ok(ledger, admit("demo", "alice", "founders", JOINED))
    ok(ledger, CallFee("demo", "alice", 2020, JOINED))
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("60"), date(2020, 4, 10)))
    ok(ledger, PayFee("demo", "alice", 2020, Decimal("40"), date(2020, 3, 1)))  # back-dated, recorded last
    coop = ledger.cooperative("demo")
    day_before, the_day = (
        member_eligibility(coop, "alice", date(2020, 4, 9)),
        member_eligibility(coop, "alice", date(2020, 4, 10)),
    )
    assert not day_before.eligible and the_day.eligible and the_day.college == "founders"
    assert day_before.reasons[2] == {
        "rule": "fee_paid",
        "ok": False,
        "detail": "2020 fee: 40.00 of 100.00 EUR paid by 2020-04-09",
    }
    assert the_day.reasons[2] == {"rule": "fee_paid", "ok": True, "detail": "2020 fee: 100.00 of 100.00 EUR paid by 2020-04-10"}
    # The next fiscal year needs the next fee.
    assert not member_eligibility(coop, "alice", date(2021, 1, 1)).eligible


# ---------------------------------------------------------------- resolutions and votes


def test_resolutions_store_their_majority(ledger):
    ok(ledger, found_association("demo"))
    ok(ledger, RecordResolution("demo", "O", "Comptes", "ordinary", VOTE_DAY))
    ok(ledger, RecordResolution("demo", "E", "Statuts", "extraordinary", VOTE_DAY))
    ok(ledger, RecordResolution("demo", "T", "Dissolution", "extraordinary", VOTE_DAY, "3/4"))
    stored = {
        e.resolution_id: (e.threshold, e.threshold_strict, e.effective_date)
        for e in ledger.app.events.get(ledger.cooperative("demo").id)
        if e.kind == "ResolutionRecorded"
    }
    assert stored == {"O": ("1/2", True, VOTE_DAY), "E": ("2/3", False, VOTE_DAY), "T": ("3/4", False, VOTE_DAY)}


@pytest.mark.parametrize(
    ("command", "error_type", "field", "rule"),
    [
        (RecordResolution("demo", "R2", "x", "special", VOTE_DAY), InvalidCommand, "assembly", "known_assembly"),
        (RecordResolution("demo", "R2", "x", "ordinary", VOTE_DAY, "1/3"), InvalidCommand, "threshold", "majority"),
        (RecordResolution("demo", "R2", "x", "ordinary", VOTE_DAY, "5/4"), InvalidCommand, "threshold", "majority"),
        (RecordResolution("demo", "R2", "x", "ordinary", VOTE_DAY, "two thirds"), InvalidCommand, "threshold", "fraction"),
        (RecordResolution("demo", "R1", "x", "ordinary", VOTE_DAY), Conflict, "resolution_id", "unique_resolution"),
        (RecordResolution("demo", "R2", "x", "ordinary", date(2019, 6, 30)), InvalidCommand, "vote_date", "not_before_founding"),
    ],
)
def test_invalid_resolutions_are_refused(ledger, command, error_type, field, rule):
    ok(ledger, found_association("demo"))
    ok(ledger, RecordResolution("demo", "R1", "Comptes", "ordinary", VOTE_DAY))
    result = refused(ledger, command)
    assert isinstance(result.error, error_type)
    assert (result.error.field, result.error.rule) == (field, rule)


def test_votes_from_ineligible_members_are_refused(ledger):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "paid", "founders")
    join(ledger, "demo", "owes", "users", pay=Decimal("99.99"))
    join(ledger, "demo", "gone", "partners")
    ok(ledger, ResignMember("demo", "gone", date(2020, 6, 30)))  # resigned on the vote day
    join(ledger, "demo", "out", "staff")
    ok(ledger, ExcludeMember("demo", "out", date(2020, 5, 1), "unpaid"))
    join(ledger, "demo", "late", "staff", on=date(2020, 7, 1), paid_on=date(2020, 7, 1))
    ok(ledger, RecordResolution("demo", "R1", "Comptes", "ordinary", VOTE_DAY))
    for member_id, why in [
        ("owes", "2020 fee: 99.99 of 100.00 EUR paid by 2020-06-30"),
        ("gone", "resigned on 2020-06-30"),
        ("out", "excluded on 2020-05-01"),
        ("late", "not admitted until 2020-07-01"),
    ]:
        result = refused(ledger, CastVote("demo", "R1", member_id, "for"))
        assert isinstance(result.error, InvalidCommand)
        assert (result.error.field, result.error.rule) == ("member_id", "eligible_voter"), member_id
        assert why in result.error.message
    assert ok(ledger, CastVote("demo", "R1", "paid", "against")).events == ("VoteCast",)
    assert ledger.cooperative("demo").resolutions["R1"]["voters"] == {"paid": "founders"}


def test_one_vote_per_member(ledger):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "alice", "founders")
    ok(ledger, RecordResolution("demo", "R1", "Comptes", "ordinary", VOTE_DAY))
    ok(ledger, CastVote("demo", "R1", "alice", "abstain"))  # an abstention is a vote too
    again = refused(ledger, CastVote("demo", "R1", "alice", "for"))
    assert isinstance(again.error, Conflict) and (again.error.field, again.error.rule) == ("member_id", "one_vote")
    # Within one batch too.
    ok(ledger, RecordResolution("demo", "R2", "Budget", "ordinary", VOTE_DAY))
    first, second = ledger.execute_batch(
        [(CastVote("demo", "R2", "alice", "for"), new_key(), "t"), (CastVote("demo", "R2", "alice", "against"), new_key(), "t")]
    )
    assert first.accepted and not second.accepted and second.error.rule == "one_vote"


@pytest.mark.parametrize(
    ("command", "field", "rule"),
    [
        (CastVote("demo", "R9", "alice", "for"), "resolution_id", "known_resolution"),
        (CastVote("demo", "R1", "nobody", "for"), "member_id", "known_member"),
        (CastVote("demo", "R1", "alice", "yes"), "choice", "known_choice"),
    ],
)
def test_votes_naming_unknown_things_are_refused(ledger, command, field, rule):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "alice", "founders")
    ok(ledger, RecordResolution("demo", "R1", "Comptes", "ordinary", VOTE_DAY))
    result = refused(ledger, command)
    assert (result.error.field, result.error.rule) == (field, rule)


def test_a_vote_is_recorded_in_the_college_of_the_vote_date(ledger):
    ok(ledger, found_association("demo"))
    join(ledger, "demo", "sam", "staff", year=2020)
    ok(ledger, CallFee("demo", "sam", 2021, date(2020, 12, 1)))
    ok(ledger, PayFee("demo", "sam", 2021, FEE, date(2020, 12, 1)))
    ok(ledger, TransferMember("demo", "sam", "users", date(2021, 1, 1)))
    ok(ledger, RecordResolution("demo", "old", "Avant", "ordinary", date(2020, 12, 31)))
    ok(ledger, RecordResolution("demo", "new", "Après", "ordinary", date(2021, 1, 1)))
    ok(ledger, CastVote("demo", "old", "sam", "for"))
    ok(ledger, CastVote("demo", "new", "sam", "for"))
    cast = [
        (e.resolution_id, e.college, e.effective_date)
        for e in ledger.app.events.get(ledger.cooperative("demo").id)
        if e.kind == "VoteCast"
    ]
    assert cast == [("old", "staff", date(2020, 12, 31)), ("new", "users", date(2021, 1, 1))]


def test_the_general_assembly_builder_records_every_vote(ledger):
    general_assembly(ledger)
    voters = ledger.cooperative("demo").resolutions["R1"]["voters"]
    assert len(voters) == 13 and "silent" not in voters
    assert sorted(set(voters.values())) == ["founders", "partners", "staff", "users"]


def test_governance_commands_parse_from_json_lines():
    """The shapes `coopledger record` reads (AmendStatutes carries nested colleges)."""
    from ledger.commands import loads, parse_command

    command, key, _actor = parse_command(
        loads(
            '{"command": "AmendStatutes", "idempotency_key": "a1", "coop": "c", "effective_date": "2021-01-01", "reason": "AGE",'
            ' "colleges": [{"code": "a", "name": "A", "weight": "50"}, {"code": "b", "name": "B", "weight": "100/2"}]}'
        )
    )
    assert command == AmendStatutes("c", date(2021, 1, 1), [CollegeSpec("a", "A", "50"), CollegeSpec("b", "B", "100/2")], "AGE")
    command, _key, _actor = parse_command(
        loads(
            '{"command": "SetVotingPolicy", "idempotency_key": "p1", "coop": "c", "effective_date": "2021-01-01",'
            ' "require_fee_paid": false, "empty_college_policy": "unassigned"}'
        )
    )
    assert command == SetVotingPolicy("c", date(2021, 1, 1), False, 0, "unassigned")
    assert key == "a1"


def test_dates_are_days(ledger):
    """Every governance date is a calendar day: the day before an effective date is the old state."""
    ok(ledger, found_cluster())
    amended = date(2021, 1, 1)
    ok(
        ledger,
        AmendStatutes(
            "cluster",
            amended,
            [
                CollegeSpec("media", "Médias", "50"),
                CollegeSpec("companies", "E", "20"),
                CollegeSpec("research", "R", "10"),
                CollegeSpec("public", "P", "20"),
            ],
            "AGE",
        ),
    )
    coop = ledger.cooperative("cluster")
    assert coop.colleges_on(amended - timedelta(days=1))["media"]["weight"] == "40"
    assert coop.colleges_on(amended)["media"]["weight"] == "50"
