"""Charts of accounts: one default per legal form; the same number means different things."""

from __future__ import annotations

import pytest

from domain.accounts import Account, AccountClass, LegalForm, check_account_number, default_chart
from domain.errors import InvalidCommand, NotFound

ASSOCIATION = default_chart(LegalForm.ASSOCIATION)
GENERAL_FORMS = [LegalForm.SCIC, LegalForm.SCOP, LegalForm.CAE]


@pytest.mark.parametrize("form", GENERAL_FORMS)
def test_756_and_657_mean_different_things_in_the_two_plans(form):
    general = default_chart(form)
    # General plan (PCG): 756 exchange gains, 657 book value of assets sold.
    assert "change" in general.account("756").label_fr.lower()
    assert "exchange" in general.account("756").label_en.lower()
    assert "actifs cédés" in general.account("657").label_fr
    # Association plan (ANC 2018-06): 756x are membership fees, 657x financial aid.
    assoc_756 = [a for n, a in ASSOCIATION.accounts.items() if n.startswith("756")]
    assoc_657 = [a for n, a in ASSOCIATION.accounts.items() if n.startswith("657")]
    assert assoc_756 and all("Cotisations" in a.label_fr for a in assoc_756)
    assert assoc_657 and all("Aides financières" in a.label_fr for a in assoc_657)
    # No account number carries the PCG meaning into the association chart or vice versa.
    for number in set(ASSOCIATION.accounts) & set(general.accounts):
        assert not number.startswith(("756", "657")), number


@pytest.mark.parametrize("form", GENERAL_FORMS)
def test_fee_income_role_follows_the_plan(form):
    general = default_chart(form)
    assert ASSOCIATION.role("fee_income") == "7561"
    assert general.role("fee_income") != "756"  # 756 is exchange gains in the general plan
    assert general.role("fee_income").startswith("7")
    # Roles that mean the same thing map to the same number.
    for role in ("bank", "members_receivable", "capital", "capital_to_repay"):
        assert ASSOCIATION.role(role) == general.role(role)
    assert ASSOCIATION.role("bank") == "512"
    assert ASSOCIATION.role("members_receivable") == "411"


def test_association_and_company_specific_accounts():
    scic = default_chart(LegalForm.SCIC)
    for number in ("102", "194", "195", "196", "4672", "6571", "7541", "7561", "7562"):
        assert number in ASSOCIATION.accounts
        assert number not in scic.accounts
    for number in ("467", "657", "756"):
        assert number in scic.accounts
        assert number not in ASSOCIATION.accounts
    for number in ("1013", "4561", "4567", "512", "411", "706", "741"):
        assert number in ASSOCIATION.accounts and number in scic.accounts


@pytest.mark.parametrize("form", list(LegalForm))
def test_every_account_has_both_labels_and_a_valid_number(form):
    chart = default_chart(form)
    assert list(chart.accounts) == sorted(chart.accounts)
    for number, account in chart.accounts.items():
        assert account.number == number
        assert check_account_number(number, "n") == number
        assert account.label_fr.strip() and account.label_en.strip()
    for role in chart.roles:
        assert chart.role(role) in chart.accounts


@pytest.mark.parametrize(
    ("number", "cls"),
    [
        ("102", AccountClass.EQUITY),
        ("411", AccountClass.THIRD_PARTIES),
        ("512", AccountClass.FINANCIAL),
        ("6571", AccountClass.EXPENSES),
        ("7561", AccountClass.INCOME),
        ("86", AccountClass.SPECIAL),
    ],
)
def test_account_class_is_the_first_digit(number, cls):
    assert Account(number, "x", "x").account_class is cls


@pytest.mark.parametrize("number", ["9", "0123", "1", "12345678901", "51a", "", 512, None])
def test_bad_account_numbers_are_refused(number):
    with pytest.raises(InvalidCommand) as exc:
        check_account_number(number, "number")
    assert (exc.value.field, exc.value.rule) == ("number", "account_number")


def test_unknown_account_is_not_found_and_with_account_adds_without_mutating():
    with pytest.raises(NotFound) as exc:
        ASSOCIATION.account("6064")
    assert exc.value.rule == "known_account"
    extended = ASSOCIATION.with_account(Account("6064", "Fournitures", "Supplies"))
    assert extended.account("6064").label_en == "Supplies"
    assert "6064" not in ASSOCIATION.accounts


def test_legal_forms_with_capital():
    assert not LegalForm.ASSOCIATION.has_capital
    assert all(form.has_capital for form in GENERAL_FORMS)
