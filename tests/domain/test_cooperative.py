"""Founding a cooperative: voting colleges (SCIC law vs association statutes) and fee schedules; adding
accounts to its chart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from domain.cooperative import (
    AccountAdded,
    AddAccount,
    CollegeSpec,
    CooperativeFounded,
    FeeBracket,
    FoundCooperative,
    add_account,
    found_cooperative,
)
from domain.errors import Conflict, DomainError, InvalidCommand
from domain.events import Meta

META = Meta(actor="test", idempotency_key="k")


def found(legal_form: str = "association", colleges=None, fee_schedule=None, **extra) -> CooperativeFounded:
    """Founds a cooperative in memory and returns its founding event: the stored statutes."""
    if colleges is None:
        colleges = [CollegeSpec("a", "A"), CollegeSpec("b", "B"), CollegeSpec("c", "C")]
    if fee_schedule is None:
        fee_schedule = [FeeBracket(1, None, Decimal("100"))]
    if legal_form != "association":
        extra.setdefault("share_value", Decimal("50"))
    cmd = FoundCooperative("c1", "Coop", legal_form, date(2020, 1, 1), colleges, fee_schedule, **extra)
    coop = found_cooperative(None, cmd, META)
    (event,) = coop.collect_events()
    assert isinstance(event, CooperativeFounded)
    return event


def weights_of(event: CooperativeFounded) -> list[Fraction]:
    return [Fraction(c["weight"]) for c in event.colleges]


def refused(**kwargs) -> DomainError:
    with pytest.raises(DomainError) as exc:
        found(**kwargs)
    return exc.value


def weighted(*weights: str) -> list[CollegeSpec]:
    return [CollegeSpec(f"c{i}", f"College {i}", w) for i, w in enumerate(weights)]


def unweighted(n: int) -> list[CollegeSpec]:
    return [CollegeSpec(f"c{i}", f"College {i}") for i in range(n)]


# ---------------------------------------------------------------- SCIC colleges (loi 47-1775)


@pytest.mark.parametrize("n", [1, 2])
def test_scic_needs_at_least_three_colleges(n):
    error = refused(legal_form="scic", colleges=unweighted(n))
    assert (error.field, error.rule) == ("colleges", "scic_min_colleges")


def test_scic_with_three_weighted_colleges_within_bounds():
    founded = found(legal_form="scic", colleges=weighted("50", "25", "25"))
    assert founded.weighted is True
    assert weights_of(founded) == [50, 25, 25]


@pytest.mark.parametrize(
    ("weights", "bad_index"),
    [
        (("60", "20", "20"), 0),  # above 50 %
        (("50.01", "25", "24.99"), 0),
        (("45", "46", "9"), 2),  # below 10 %
        (("9.99", "45", "45.01"), 0),
    ],
)
def test_scic_weighted_college_outside_10_to_50_percent_is_refused(weights, bad_index):
    error = refused(legal_form="scic", colleges=weighted(*weights))
    assert (error.field, error.rule) == (f"colleges[{bad_index}].weight", "scic_weight_bounds")


def test_scic_bounds_are_inclusive():
    founded = found(legal_form="scic", colleges=weighted("10", "40", "50"))
    assert sorted(weights_of(founded)) == [10, 40, 50]


def test_scic_ten_weighted_colleges_of_10_percent_is_the_maximum():
    assert len(found(legal_form="scic", colleges=weighted(*["10"] * 10)).colleges) == 10
    # Eleven colleges of at least 10 % cannot sum to 100 %.
    error = refused(legal_form="scic", colleges=weighted(*["10"] * 11))
    assert error.rule == "weights_sum_100"


def test_unweighted_colleges_share_votes_equally_and_exactly():
    founded = found(legal_form="scic", colleges=unweighted(3))
    assert founded.weighted is False
    weights = weights_of(founded)
    assert weights == [Fraction(100, 3)] * 3  # 33.333...%, not 33.33 %
    assert sum(weights) == 100
    assert [c["weight"] for c in founded.colleges] == ["100/3"] * 3


def test_unweighted_scic_is_not_bound_by_the_10_percent_floor():
    # The 10-50 % bounds apply to a statutory weighting; without one, every college has the
    # same number of votes, even if that is 100/11 % each.
    founded = found(legal_form="scic", colleges=unweighted(11))
    assert set(weights_of(founded)) == {Fraction(100, 11)}


def test_explicit_thirds_are_exact_but_rounded_thirds_do_not_sum_to_100():
    founded = found(legal_form="scic", colleges=weighted("100/3", "100/3", "100/3"))
    assert sum(weights_of(founded)) == 100
    # 33.33 + 33.33 + 33.34 is exactly 100: accepted; three times 33.33 is 99.99: refused.
    founded = found(legal_form="scic", colleges=weighted("33.33", "33.33", "33.34"))
    assert sum(weights_of(founded)) == 100
    error = refused(legal_form="scic", colleges=weighted("33.33", "33.33", "33.33"))
    assert (error.field, error.rule) == ("colleges", "weights_sum_100")


@pytest.mark.parametrize("weights", [("40", "20", "20", "10"), ("40", "20", "20", "30"), ("12.5", "12.5", "25", "49.99")])
def test_weights_must_sum_to_100(weights):
    error = refused(colleges=weighted(*weights))
    assert (error.field, error.rule) == ("colleges", "weights_sum_100")


def test_weights_all_or_none():
    error = refused(colleges=[CollegeSpec("a", "A", "50"), CollegeSpec("b", "B")])
    assert (error.field, error.rule) == ("colleges", "weights_all_or_none")


@pytest.mark.parametrize(("weight", "rule"), [("forty", "fraction"), ("1/0", "fraction"), ("0", "positive"), ("-10", "positive")])
def test_bad_weight_is_named(weight, rule):
    error = refused(colleges=[CollegeSpec("a", "A", weight), CollegeSpec("b", "B", "100")])
    assert (error.field, error.rule) == ("colleges[0].weight", rule)


def test_college_codes_are_unique_and_identifiers():
    error = refused(colleges=[CollegeSpec("a", "A"), CollegeSpec("a", "A bis")])
    assert (error.field, error.rule) == ("colleges", "unique_codes")
    error = refused(colleges=[CollegeSpec("ok", "A"), CollegeSpec("not ok", "B")])
    assert (error.field, error.rule) == ("colleges[1].code", "identifier")


def test_no_college_is_refused():
    error = refused(colleges=[])
    assert (error.field, error.rule) == ("colleges", "required")


# ---------------------------------------------------------------- associations (loi 1901)


@pytest.mark.parametrize("weights", [("100",), ("70", "30"), ("40", "20", "20", "20"), ("60", "5", "35"), ("5", "5", "90")])
def test_association_is_free_of_scic_bounds(weights):
    founded = found(legal_form="association", colleges=weighted(*weights))
    assert weights_of(founded) == [Fraction(w) for w in weights]


def test_association_with_one_unweighted_college_holds_all_votes():
    founded = found(legal_form="association", colleges=unweighted(1))
    assert [c["weight"] for c in founded.colleges] == ["100"]


def test_same_weights_refused_for_a_scic_accepted_for_an_association():
    colleges = weighted("60", "5", "35")
    assert found(legal_form="association", colleges=colleges).weighted
    assert refused(legal_form="scic", colleges=colleges).rule == "scic_weight_bounds"


# ---------------------------------------------------------------- fee schedule


def test_fee_schedule_is_stored_in_cents():
    founded = found(
        fee_schedule=[
            FeeBracket(1, 9, Decimal("100")),
            FeeBracket(10, 49, Decimal("250.50")),
            FeeBracket(50, None, Decimal("1500")),
        ]
    )
    assert founded.fee_schedule == [
        {"min_headcount": 1, "max_headcount": 9, "amount_cents": 10000},
        {"min_headcount": 10, "max_headcount": 49, "amount_cents": 25050},
        {"min_headcount": 50, "max_headcount": None, "amount_cents": 150000},
    ]


@pytest.mark.parametrize(
    ("brackets", "field", "rule"),
    [
        ([], "fee_schedule", "required"),
        ([FeeBracket(2, None, Decimal("10"))], "fee_schedule[0].min_headcount", "contiguous_brackets"),
        (
            [FeeBracket(1, 9, Decimal("10")), FeeBracket(11, None, Decimal("20"))],
            "fee_schedule[1].min_headcount",
            "contiguous_brackets",
        ),
        (
            [FeeBracket(1, 9, Decimal("10")), FeeBracket(9, None, Decimal("20"))],
            "fee_schedule[1].min_headcount",
            "contiguous_brackets",
        ),
        ([FeeBracket(1, 9, Decimal("10"))], "fee_schedule[0].max_headcount", "open_last_bracket"),
        ([FeeBracket(1, None, Decimal("10")), FeeBracket(10, None, Decimal("20"))], "fee_schedule[0].max_headcount", "required"),
        (
            [FeeBracket(5, 3, Decimal("10")), FeeBracket(4, None, Decimal("20"))],
            "fee_schedule[0].min_headcount",
            "contiguous_brackets",
        ),
        ([FeeBracket(1, 0, Decimal("10")), FeeBracket(1, None, Decimal("20"))], "fee_schedule[0].max_headcount", "range"),
        ([FeeBracket(0, None, Decimal("10"))], "fee_schedule[0].min_headcount", "range"),
        ([FeeBracket(1, None, Decimal("0"))], "fee_schedule[0].amount", "positive"),
        ([FeeBracket(1, None, Decimal("-5"))], "fee_schedule[0].amount", "positive"),
        ([FeeBracket(1, None, Decimal("10.005"))], "fee_schedule[0].amount", "precision"),
        ([FeeBracket(1, None, 10.5)], "fee_schedule[0].amount", "decimal"),
    ],
)
def test_bad_fee_schedule_is_named(brackets, field, rule):
    error = refused(fee_schedule=brackets)
    assert (error.field, error.rule) == (field, rule)


# ---------------------------------------------------------------- the rest of the founding


def test_capital_is_required_for_a_scic_and_refused_for_an_association():
    error = refused(legal_form="scic", colleges=unweighted(3), share_value=None)
    assert (error.field, error.rule) == ("share_value", "required")
    error = refused(legal_form="association", share_value=Decimal("50"))
    assert (error.field, error.rule) == ("share_value", "no_capital")
    assert found(legal_form="scic", share_value=Decimal("20.00")).share_value_cents == 2000


@pytest.mark.parametrize(
    ("extra", "field", "rule"),
    [
        ({"legal_form": "sarl"}, "legal_form", "known_legal_form"),
        ({"siren": "12345678"}, "siren", "siren"),
        ({"siren": "12345678A"}, "siren", "siren"),
        ({"fiscal_year_start_month": 13}, "fiscal_year_start_month", "range"),
        ({"fiscal_year_start_month": 0}, "fiscal_year_start_month", "range"),
    ],
)
def test_bad_founding_fields_are_named(extra, field, rule):
    error = refused(**extra)
    assert isinstance(error, InvalidCommand)
    assert (error.field, error.rule) == (field, rule)


def test_founding_twice_is_a_conflict():
    cmd = FoundCooperative("c1", "Coop", "association", date(2020, 1, 1), unweighted(1), [FeeBracket(1, None, Decimal("1"))])
    existing = found_cooperative(None, cmd, META)
    with pytest.raises(Conflict) as exc:
        found_cooperative(existing, cmd, META)
    assert (exc.value.field, exc.value.rule) == ("coop", "unique_cooperative")


@pytest.mark.parametrize(
    ("start_month", "day", "year"),
    [(1, date(2021, 1, 1), 2021), (1, date(2021, 12, 31), 2021), (7, date(2021, 6, 30), 2020), (7, date(2021, 7, 1), 2021)],
)
def test_fiscal_years_are_named_by_the_calendar_year_they_start_in(start_month, day, year):
    cmd = FoundCooperative(
        "c1",
        "Coop",
        "association",
        date(2020, 1, 1),
        unweighted(1),
        [FeeBracket(1, None, Decimal("1"))],
        fiscal_year_start_month=start_month,
    )
    assert found_cooperative(None, cmd, META).fiscal_year_of(day) == year


# ---------------------------------------------------------------- SIREN (it names the FEC file)


@pytest.mark.parametrize("siren", ["732829320", "552100554", "123456782", "000000000"])
def test_a_luhn_valid_siren_is_part_of_the_identity(siren):
    # Each passes the Luhn check (every second digit from the right doubled, digits summed, total % 10 == 0).
    assert found(siren=siren).siren == siren


def test_siren_is_optional_at_founding():
    assert found().siren is None


@pytest.mark.parametrize(
    ("siren", "rule"),
    [
        ("732829321", "siren_checksum"),  # last digit mistyped
        ("738229320", "siren_checksum"),  # two neighbours swapped (2 and 8)
        ("123456789", "siren_checksum"),
        ("73282932", "siren"),  # 8 digits
        ("7328293200", "siren"),  # 10 digits
        ("732 829 320", "siren"),  # spaces are for people, not the record
        ("73282932A", "siren"),
        ("७३२८२९३२०", "siren"),  # Devanagari digits: str.isdigit() says yes, a SIREN says no
        (732829320, "siren"),  # a number loses leading zeros: it must be text
    ],
)
def test_a_bad_siren_is_refused_naming_the_field_and_the_rule(siren, rule):
    error = refused(siren=siren)
    assert isinstance(error, InvalidCommand)
    assert (error.field, error.rule) == ("siren", rule)
    assert repr(siren) in error.message


# ---------------------------------------------------------------- AddAccount: numbers the FEC can write


def founded_association():
    cmd = FoundCooperative("c1", "Coop", "association", date(2020, 1, 1), unweighted(1), [FeeBracket(1, None, Decimal("1"))])
    coop = found_cooperative(None, cmd, META)
    coop.collect_events()
    return coop


@pytest.mark.parametrize(
    ("added", "then", "clash"),
    [
        (None, "58", "580"),  # 580 (virements internes) is in every default chart
        ("74", "740", "74"),  # conversely: the longer number after the shorter one
        ("740", "74", "740"),
    ],
)
def test_an_account_that_would_merge_with_another_in_the_fec_is_refused(added, then, clash):
    coop = founded_association()
    if added:
        add_account(coop, AddAccount("c1", added, "Ajouté", "Added", date(2020, 1, 1)), META)
        coop.collect_events()
    with pytest.raises(Conflict) as exc:
        add_account(coop, AddAccount("c1", then, "Refusé", "Refused", date(2020, 1, 2)), META)
    assert (exc.value.field, exc.value.rule) == ("number", "distinct_when_padded")
    assert f"account {then} would be written {then.ljust(3, '0')} in the FEC, as account {clash} already is" in exc.value.message
    assert coop.collect_events() == [] and then not in coop.chart.accounts


@pytest.mark.parametrize("number", ["74", "40", "7400", "5800", "581"])
def test_an_account_that_pads_like_no_other_is_added(number):
    coop = founded_association()  # 40 pads to 400 (401 is no clash); 4 digits and more are never padded
    add_account(coop, AddAccount("c1", number, "Ajouté", "Added", date(2020, 1, 1)), META)
    (event,) = coop.collect_events()
    assert isinstance(event, AccountAdded) and event.number == number and number in coop.chart.accounts
